"""Budget alerts: who hears of a threshold, and the e-mail, in-app notice and webhook."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from orgs.audit import audit_record
from orgs.models import Membership, Role, User
from providers.budgets.models import Budget, BudgetAlert, Notice, Scope
from providers.budgets.signals import notices_created

logger = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_SECONDS = 5.0


def _ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def alert_recipients(budget: Budget) -> list[User]:
    """Department budgets: the admins and finance of that department or any above it.
    User and key budgets: the person and the admins of their department. The
    organization's budget: platform admins and everyone with the finance role."""
    department_ids: list[int] = []
    direct: list[int] = []
    if budget.scope == Scope.DEPARTMENT and budget.department is not None:
        department_ids = _ancestor_ids(budget.department.path)
    elif budget.scope in (Scope.USER, Scope.KEY):
        person = budget.user if budget.scope == Scope.USER else budget.virtual_key.user  # type: ignore[union-attr]
        if person is not None:
            direct.append(person.pk)
            primary = person.memberships.filter(is_primary=True).select_related("department")
            for membership in primary:
                department_ids = _ancestor_ids(membership.department.path)
    role_filter = Q(roles__contains=[Role.DEPT_ADMIN]) | Q(roles__contains=[Role.FINANCE])
    if budget.scope == Scope.ORGANIZATION:
        members = Membership.objects.filter(
            Q(roles__contains=[Role.PLATFORM_ADMIN]) | Q(roles__contains=[Role.FINANCE]),
            department__organization_id=budget.organization_id,
        )
    else:
        members = Membership.objects.filter(role_filter, department_id__in=department_ids)
    ids = set(members.values_list("user_id", flat=True)) | set(direct)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _subject(budget: Budget, threshold: int) -> str:
    if budget.scope == Scope.DEPARTMENT and budget.department is not None:
        name = budget.department.name
    elif budget.scope == Scope.USER and budget.user is not None:
        name = budget.user.get_full_name()
    elif budget.scope == Scope.KEY and budget.virtual_key is not None:
        name = gettext("API key %(prefix)s…") % {"prefix": budget.virtual_key.prefix}
    else:
        name = budget.organization.name
    return gettext("Budget alert: %(name)s has used %(threshold)s%% of its %(period)s budget") % {
        "name": name,
        "threshold": threshold,
        "period": budget.get_period_display(),
    }


def _body(budget: Budget, threshold: int, spent: Decimal, window_start: datetime) -> str:
    text = gettext(
        "Spent %(spent)s of %(limit)s since %(start)s (%(enforcement)s).\n"
        "Open the budgets page to see who spends and to change the limit."
    ) % {
        "spent": f"${spent:.2f}",
        "limit": f"${budget.limit_usd:.2f}",
        "start": timezone.localtime(window_start).strftime("%Y-%m-%d"),
        "enforcement": budget.get_enforcement_display(),
    }
    if threshold >= 100 and budget.enforcement == Budget.Enforcement.HARD:
        text += "\n" + gettext("Calls are refused until the budget resets or is raised.")
    return text


def budget_alert_deliver(
    *, budget_id: int, window_start: datetime, threshold: int, spent_usd: Decimal
) -> BudgetAlert | None:
    """Record the alert once and tell its recipients; None if it was already sent
    (another process saw the same crossing) or the budget is gone."""
    budget = (
        Budget.objects.select_related("department", "user", "virtual_key__user", "organization")
        .filter(pk=budget_id)
        .first()
    )
    if budget is None:
        return None
    try:
        with transaction.atomic():
            alert = BudgetAlert.objects.create(
                budget=budget,
                window_start=window_start,
                threshold=threshold,
                limit_usd=budget.limit_usd,
                spent_usd=spent_usd,
            )
    except IntegrityError:
        return None
    recipients = alert_recipients(budget)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _subject(budget, threshold)
        body = _body(budget, threshold, spent_usd, window_start)
    Notice.objects.bulk_create(
        [
            Notice(recipient=user, alert=alert, title=subject, body=body, link="/budgets/")
            for user in recipients
        ]
    )
    emails = [user.email for user in recipients if user.email]
    if emails:
        try:
            send_mail(subject, body, None, emails)
        except OSError:
            logger.exception("could not e-mail budget alert %s", alert.pk)
            emails = []
    alert.emailed_to = emails
    alert.webhook_status = _post_webhook(budget, alert, subject) if budget.webhook_url else ""
    alert.save(update_fields=["emailed_to", "webhook_status"])
    audit_record(
        actor=None,
        action="budget.alert",
        target=budget,
        department=budget.department,
        details={
            "threshold": threshold,
            "spent_usd": str(spent_usd),
            "limit_usd": str(budget.limit_usd),
            "recipients": len(recipients),
            "webhook": alert.webhook_status,
        },
    )
    notices_created.send(sender=Notice, user_ids=[user.pk for user in recipients], title=subject)
    return alert


def _post_webhook(budget: Budget, alert: BudgetAlert, subject: str) -> str:
    payload = {
        "type": "budget.threshold",
        "budget_id": budget.pk,
        "scope": budget.scope,
        "department": budget.department.code if budget.department else None,
        "period": budget.period,
        "window_start": alert.window_start.isoformat(),
        "threshold_percent": alert.threshold,
        "spent_usd": str(alert.spent_usd),
        "limit_usd": str(budget.limit_usd),
        "enforcement": budget.enforcement,
        "text": subject,
    }
    try:
        response = httpx.post(budget.webhook_url, json=payload, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        logger.warning("budget webhook failed: %s", type(exc).__name__)
        return type(exc).__name__
    return str(response.status_code)
