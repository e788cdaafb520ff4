"""People, the org chart they sit in, and the append-only audit trail."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MEMBER = "member", _("member")
    DEPT_ADMIN = "dept_admin", _("department admin")
    FINANCE = "finance", _("finance")
    PLATFORM_ADMIN = "platform_admin", _("platform admin")


class Organization(models.Model):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An employee. Signs in with the company e-mail address (locally or through SSO)."""

    class Deactivation(models.TextChoices):
        NONE = "", _("active")
        ADMIN = "admin", _("by an admin")
        ORG_CHART = "org_chart", _("absent from the org chart")
        SSO = "sso", _("lost access at the identity provider")

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_reason = models.CharField(
        _("deactivation reason"), max_length=16, choices=Deactivation.choices, blank=True
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email.split("@", 1)[0]


class Department(models.Model):
    """A node of the org chart. ``path`` is the chain of ids from the root
    (``/3/7/12/``) so a subtree is one indexed prefix query."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="departments"
    )
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent department"),
    )
    path = models.CharField(max_length=1000, db_index=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ("path",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "code"), name="department_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DepartmentMove(models.Model):
    """History of the tree: each change of a department's parent."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="moves")
    old_parent = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    new_parent = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    moved_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ("-moved_at",)

    def __str__(self) -> str:
        return f"{self.department.code}: {self.old_parent_id} → {self.new_parent_id}"


class Membership(models.Model):
    """A user's place in a department and the roles they hold there.

    Each user has one primary membership (their department in the org chart).
    Extra memberships give roles over other departments, such as finance for
    the departments they are assigned to.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    roles = ArrayField(models.CharField(max_length=20, choices=Role.choices), default=list)
    is_primary = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=("user", "department"), name="membership_unique"),
            models.UniqueConstraint(
                fields=("user",), condition=models.Q(is_primary=True), name="membership_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department.code} {self.roles}"


class Group(models.Model):
    """A cross-department team (from the IdP's groups or made by hand)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(User, related_name="org_groups", blank=True)
    managed_by_sso = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.UniqueConstraint(fields=("organization", "name"), name="group_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ClaimMappingRule(models.Model):
    """One rule mapping IdP claims to the org chart, applied in ``position`` order.

    A rule matches when the claim named by ``claim`` (``groups``, ``department``,
    ``roles``, ``email_domain`` or any other claim name) equals ``value`` (for a
    list claim: contains it; ``*`` matches any present value). Its ``action`` then
    sets the department, grants a role, adds a group, or (``require``) marks the
    rule as one of the gates of which at least one must match for access.
    """

    class Action(models.TextChoices):
        REQUIRE = "require", _("required for access")
        SET_DEPARTMENT = "set_department", _("set department")
        DEPARTMENT_FROM_CLAIM = "department_from_claim", _("department code from the claim value")
        GRANT_ROLE = "grant_role", _("grant role")
        ADD_GROUP = "add_group", _("add to group")
        GROUP_FROM_CLAIM = "group_from_claim", _("groups from the claim values")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="claim_rules"
    )
    position = models.PositiveIntegerField(_("order"), default=0)
    claim = models.CharField(_("claim"), max_length=100)
    value = models.CharField(_("value"), max_length=300, default="*")
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    target = models.CharField(
        _("target"),
        max_length=200,
        blank=True,
        help_text=_("department code, role or group name, depending on the action"),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("claim mapping rule")
        verbose_name_plural = _("claim mapping rules")
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.claim}={self.value} → {self.action} {self.target}"


class SsoSync(models.Model):
    """What one SSO sign-in changed (or why it was refused)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("applied")
        DENIED = "denied", _("denied")
        ERROR = "error", _("error")

    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="sso_syncs")
    email = models.EmailField()
    provider = models.CharField(max_length=100)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    created_user = models.BooleanField(default=False)
    changes = models.JSONField(default=list)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("SSO sync")
        verbose_name_plural = _("SSO syncs")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.email} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """Append-only record of who did what. Each row's ``hash`` covers its content
    and the previous row's hash, so an edit or deletion breaks the chain
    (``manage.py verify_audit``). A database trigger refuses UPDATE and DELETE."""

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("-seq",)
        indexes = [
            models.Index(fields=("actor", "-seq")),
            models.Index(fields=("department", "-seq")),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_email or '-'}"


class AuditChainHead(models.Model):
    """The newest sequence number and hash, so removing the newest rows is detected too."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head #{self.seq}"
