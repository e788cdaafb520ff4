"""Who may read and manage documents (R3).

``readable_documents_filter`` is the ONE place where the contract-6 ACL becomes a
query. Searches apply it inside their SQL (``rag.search``); nothing filters
documents in Python after the fact.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from orgs.errors import AccessDenied
from orgs.models import Department, Group, Membership, Role, User
from orgs.selectors import is_platform_admin, subtree_filter, user_role_departments
from rag.models import Chunk, Document, DocumentGrant


def readable_documents_filter(user: User, *, prefix: str = "") -> Q:
    """A Q on ``Document`` (or, with ``prefix="document__"``, on a model pointing at
    it) matching exactly the documents ``user`` may read:

    - their own documents (the owner can always read);
    - ``org_wide`` documents of their organization;
    - documents granted to them by e-mail, or to one of their groups;
    - documents granted to their primary department;
    - documents granted to an ancestor of their primary department *with*
      ``include_subdepartments``. With the materialized path ``/3/7/12/`` the
      ancestors are 3 and 7; a grant on 12 itself always applies.

    Roles give nothing here: a platform admin (or a department admin) does not
    read other people's documents by virtue of the role. HR's documents stay HR's.
    Inactive and anonymous users read nothing.
    """
    if not user.is_authenticated or not user.is_active or user.pk is None:
        return Q(**{f"{prefix}pk__in": []})

    # All of it in SQL, the membership too: nothing is looked up in Python first, so
    # a change of department counts from the next query, and building this is cheap.
    primary = Membership.objects.filter(user_id=user.pk, is_primary=True)
    ancestors = Department.objects.filter(
        Exists(primary.filter(department__path__startswith=OuterRef("path")))
    ).values("id")  # the primary department's chain: its path starts with theirs
    grant = (
        Q(kind=DocumentGrant.Kind.USER, user_id=user.pk)
        | Q(
            kind=DocumentGrant.Kind.GROUP,
            group_id__in=Group.members.through.objects.filter(user_id=user.pk).values("group_id"),
        )
        | Q(kind=DocumentGrant.Kind.DEPARTMENT, department_id__in=primary.values("department_id"))
        | Q(
            kind=DocumentGrant.Kind.DEPARTMENT,
            include_subdepartments=True,
            department_id__in=ancestors,
        )
    )
    readable = Q(**{f"{prefix}owner_id": user.pk}) | Q(
        **{f"{prefix}pk__in": DocumentGrant.objects.filter(grant).values("document_id")}
    )
    if user.organization_id is not None:
        readable |= Q(
            **{f"{prefix}org_wide": True, f"{prefix}organization_id": user.organization_id}
        )
    return readable


def access_document(user: User, document_id: int) -> Document:
    """The document if ``user`` may read it; otherwise ``AccessDenied`` (shaped as a
    404 by interfaces, so a document's existence is not leaked)."""
    document = (
        Document.objects.filter(readable_documents_filter(user), pk=document_id)
        .select_related("owner")
        .first()
    )
    if document is None:
        raise AccessDenied("Document not found.")
    return document


def access_passage(user: User, chunk_id: int) -> Chunk:
    """A chunk of a ready document ``user`` may read (the ACL in the same query), with
    its document; otherwise ``AccessDenied``, shaped as a 404 by interfaces."""
    readable = Document.objects.filter(
        readable_documents_filter(user), status=Document.Status.READY
    ).values("id")
    chunk = (
        Chunk.objects.filter(pk=chunk_id, document_id__in=readable)
        .select_related("document")
        .defer("embedding", "search_tokens", "tsv")
        .first()
    )
    if chunk is None:
        raise AccessDenied("Passage not found.")
    return chunk


def editable_documents_filter(user: User) -> Q:
    """A Q on ``Document``: the documents whose readers and file ``user`` may change.

    - their own;
    - as a department admin, the company documents owned by a member of a department
      in the subtrees they administer (their department's documents). Sharing one
      with someone, themselves included, is an audited act of that office.
    """
    if not user.is_authenticated or not user.is_active or user.pk is None:
        return Q(pk__in=[])
    editable = Q(owner_id=user.pk)
    administered = user_role_departments(user, Role.DEPT_ADMIN)
    if administered:
        subtree = Department.objects.filter(subtree_filter(administered)).values("id")
        members = Membership.objects.filter(is_primary=True, department_id__in=subtree)
        editable |= Q(scope=Document.Scope.LIBRARY, owner_id__in=members.values("user_id"))
    return editable


def manageable_documents_filter(user: User) -> Q:
    """A Q on ``Document``: the documents ``user`` may delete (and see the page of):
    those they may edit, and as a platform admin every company document of their
    organization, to remove one without being able to read or re-share it."""
    manageable = editable_documents_filter(user)
    if user.is_active and user.organization_id is not None and is_platform_admin(user):
        manageable |= Q(scope=Document.Scope.LIBRARY, organization_id=user.organization_id)
    return manageable


def can_edit_document(user: User, document: Document) -> bool:
    return Document.objects.filter(editable_documents_filter(user), pk=document.pk).exists()


def can_manage_document(user: User, document: Document) -> bool:
    return Document.objects.filter(manageable_documents_filter(user), pk=document.pk).exists()


def _document_in(allowed: Q, document_id: int) -> Document:
    document = Document.objects.filter(allowed, pk=document_id).select_related("owner").first()
    if document is None:
        raise AccessDenied("Document not found.")
    return document


def access_editable_document(user: User, document_id: int) -> Document:
    """The document if ``user`` may change its readers or file; else ``AccessDenied``."""
    return _document_in(editable_documents_filter(user), document_id)


def access_managed_document(user: User, document_id: int) -> Document:
    """The document if ``user`` may delete it; otherwise ``AccessDenied`` (a 404)."""
    return _document_in(manageable_documents_filter(user), document_id)
