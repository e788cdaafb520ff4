"""Budgets, rate limits and the alerts they raise.

Spending is enforced in Redis (reserve before a call, settle after it); the ledger
(``providers.UsageRecord``) stays the record, and Redis counters are seeded from it
whenever they are missing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    KEY = "key", _("virtual key")
    USER = "user", _("user")
    DEPARTMENT = "department", _("department (with its subdepartments)")
    ORGANIZATION = "organization", _("organization")


class Budget(models.Model):
    """A spending limit in USD (the currency of the ledger) for one scope and period.

    Every budget that applies to a call must have room for it (keys, the user, each
    department up the tree, the organization): the strictest one decides.
    """

    class Period(models.TextChoices):
        DAY = "day", _("daily")
        WEEK = "week", _("weekly")
        MONTH = "month", _("monthly")
        TOTAL = "total", _("in total (never resets)")

    class Enforcement(models.TextChoices):
        HARD = "hard", _("hard: refuse calls once used up")
        SOFT = "soft", _("soft: only warn")

    scope = models.CharField(_("applies to"), max_length=16, choices=Scope.choices)
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="budgets"
    )
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="budgets"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
    )
    virtual_key = models.ForeignKey(
        "providers.VirtualKey",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
    )
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    limit_usd = models.DecimalField(_("limit (USD)"), max_digits=14, decimal_places=4)
    enforcement = models.CharField(
        _("enforcement"), max_length=8, choices=Enforcement.choices, default=Enforcement.HARD
    )
    webhook_url = models.URLField(_("alert webhook"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ("organization", "scope", "id")
        constraints = [
            models.CheckConstraint(
                name="budget_scope_target",
                condition=(
                    Q(
                        scope="key",
                        virtual_key__isnull=False,
                        user__isnull=True,
                        department__isnull=True,
                    )
                    | Q(
                        scope="user",
                        user__isnull=False,
                        virtual_key__isnull=True,
                        department__isnull=True,
                    )
                    | Q(
                        scope="department",
                        department__isnull=False,
                        user__isnull=True,
                        virtual_key__isnull=True,
                    )
                    | Q(
                        scope="organization",
                        department__isnull=True,
                        user__isnull=True,
                        virtual_key__isnull=True,
                    )
                ),
            ),
            models.CheckConstraint(name="budget_limit_positive", condition=Q(limit_usd__gt=0)),
            models.UniqueConstraint(
                fields=("scope", "organization", "department", "user", "virtual_key", "period"),
                nulls_distinct=False,
                name="budget_one_per_scope_and_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.period} ${self.limit_usd}"


class BudgetAlert(models.Model):
    """A threshold crossed in one budget window at one limit; unique, so each is
    announced once (a raised limit is crossed, and announced, anew)."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    window_start = models.DateTimeField()
    threshold = models.PositiveSmallIntegerField()  # percent: 50, 80, 100
    limit_usd = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    spent_usd = models.DecimalField(max_digits=16, decimal_places=6)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_to = models.JSONField(default=list, blank=True)
    webhook_status = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("budget", "window_start", "threshold", "limit_usd"),
                name="budget_alert_once_per_limit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.budget_id} {self.threshold}%"


class Notice(models.Model):
    """An in-app notice for one person (budget alerts today)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    alert = models.ForeignKey(
        BudgetAlert, on_delete=models.CASCADE, null=True, blank=True, related_name="notices"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("recipient", "read_at"))]

    def __str__(self) -> str:
        return self.title


class RateLimit(models.Model):
    """Requests and tokens per minute for a user or a department (each department
    counts its own callers; a parent's limit counts its whole subtree). Keys and
    deployments carry their own ``rpm``/``tpm`` fields."""

    scope = models.CharField(
        max_length=16,
        choices=[(Scope.USER, Scope.USER.label), (Scope.DEPARTMENT, Scope.DEPARTMENT.label)],
    )
    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rate_limits",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rate_limits",
    )
    rpm = models.PositiveIntegerField(_("requests per minute"), null=True, blank=True)
    tpm = models.PositiveIntegerField(_("tokens per minute"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="rate_limit_scope_target",
                condition=Q(scope="user", user__isnull=False, department__isnull=True)
                | Q(scope="department", department__isnull=False, user__isnull=True),
            ),
            models.UniqueConstraint(
                fields=("scope", "department", "user"),
                nulls_distinct=False,
                name="rate_limit_one_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} rpm={self.rpm} tpm={self.tpm}"
