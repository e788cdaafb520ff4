"""Property-based: whatever the access lists, search returns exactly the documents a
plain reference model of the rules allows, through both search SQLs (keyword, vector)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgs.models import Group, User
from orgs.selectors import primary_membership
from rag.models import EMBEDDING_DIM
from rag.search import keyword_ranking, vector_ranking
from tests.fake_upstream.server import fake_embedding
from tests.personas import Personas
from tests.rag.factories import EMBEDDING_MODEL, make_document, media_root

__all__ = ["media_root"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
PEOPLE = ("member", "dept_admin", "finance", "platform_admin", "outsider")
DEPARTMENTS = ("HR", "ENG", "ENG-PLAT", "FIN", "IT")
GROUP = "TF-결산"
TEXT = "결산 보고서 초안"


@dataclass(frozen=True)
class Acl:
    owner: str
    org_wide: bool
    departments: tuple[str, ...]
    include_subdepartments: bool
    groups: tuple[str, ...]
    users: tuple[str, ...]


acls = st.builds(
    Acl,
    owner=st.sampled_from(PEOPLE),
    org_wide=st.booleans(),
    departments=st.lists(st.sampled_from(DEPARTMENTS), unique=True, max_size=3).map(tuple),
    include_subdepartments=st.booleans(),
    groups=st.lists(st.just(GROUP), unique=True, max_size=1).map(tuple),
    users=st.lists(st.sampled_from(PEOPLE), unique=True, max_size=2).map(tuple),
)


def may_read(person: str, acl: Acl, people: dict[str, User], group_members: set[str]) -> bool:
    """The access rules, written out plainly (the reference for the SQL)."""
    if person == acl.owner or acl.org_wide or person in acl.users:
        return True
    if GROUP in acl.groups and person in group_members:
        return True
    membership = primary_membership(people[person])
    assert membership is not None
    own = membership.department
    if own.code in acl.departments:
        return True
    ancestors = own.path.strip("/").split("/")[:-1]
    codes = {d.code for d in own.organization.departments.filter(pk__in=ancestors)}
    return acl.include_subdepartments and bool(codes & set(acl.departments))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(documents=st.lists(acls, min_size=1, max_size=4))
def test_search_returns_exactly_what_the_rules_allow(
    personas: Personas, documents: list[Acl]
) -> None:
    people = {name: getattr(personas, name) for name in PEOPLE}
    group, _ = Group.objects.get_or_create(organization=personas.org, name=GROUP)
    group.members.set([personas.finance, personas.platform_admin])
    created = {}
    for acl in documents:
        document = make_document(
            people[acl.owner],
            [TEXT],
            acl={
                "org_wide": acl.org_wide,
                "departments": list(acl.departments),
                "include_subdepartments": acl.include_subdepartments,
                "groups": list(acl.groups),
                "users": [people[name].email for name in acl.users],
            },
        )
        created[document.pk] = acl
    vector = fake_embedding(TEXT, EMBEDDING_DIM)
    for person in PEOPLE:
        user = people[person]
        expected = {
            pk
            for pk, acl in created.items()
            if may_read(person, acl, people, {"finance", "platform_admin"})
        }
        by_keyword = {c.document_id for c in keyword_ranking(user, "결산", limit=200)}
        by_vector = {
            c.document_id for c in vector_ranking(user, vector, model=EMBEDDING_MODEL, limit=200)
        }
        assert by_keyword & set(created) == expected, person
        assert by_vector & set(created) == expected, person
