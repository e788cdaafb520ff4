"""Claim mapping rules → a decision about one sign-in. Pure: no writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from orgs.models import ClaimMappingRule, Role

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orgs.sso.claims import Claims

Action = ClaimMappingRule.Action


@dataclass
class MappingDecision:
    allowed: bool
    department_code: str | None = None
    roles: list[str] = field(default_factory=lambda: [Role.MEMBER.value])
    groups: list[str] = field(default_factory=list)
    matched_rules: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    problem: str = ""


def rule_matches(rule: ClaimMappingRule, claims: Claims) -> list[str]:
    """The claim values the rule matched (empty when it does not match)."""
    present = claims.get(rule.claim)
    if rule.value == "*":
        return present
    wanted = rule.value.strip().lower()
    return [v for v in present if v.strip().lower() == wanted]


def _uses_groups(rules: Sequence[ClaimMappingRule]) -> bool:
    return any(rule.claim == "groups" for rule in rules)


def mapping_decide(rules: Sequence[ClaimMappingRule], claims: Claims) -> MappingDecision:
    """Apply ``rules`` (in order) to ``claims``.

    Access needs at least one matching ``require`` rule when any exists. The
    last matching department rule wins; roles and groups accumulate. When the
    IdP replaced the groups claim by an overage link and the rules depend on
    groups, sign-in is refused with a message instead of mapping on missing data.
    """
    enabled = [rule for rule in rules if rule.is_enabled]
    decision = MappingDecision(allowed=True)
    if not claims.email:
        return MappingDecision(
            allowed=False, problem=_("The identity provider sent no e-mail claim.")
        )
    if claims.groups_overage and _uses_groups(enabled):
        return MappingDecision(
            allowed=False,
            problem=_(
                "The identity provider left out the groups claim because the user is in too "
                "many groups (group overage). Configure the application at the IdP to send only "
                "groups assigned to it, then sign in again."
            ),
        )
    requirements = [rule for rule in enabled if rule.action == Action.REQUIRE]
    if requirements and not any(rule_matches(rule, claims) for rule in requirements):
        names = ", ".join(f"{r.claim}={r.value}" for r in requirements)
        decision.allowed = False
        decision.problem = _("None of the required claims matched (%(names)s).") % {"names": names}
    roles = {Role.MEMBER.value}
    groups: list[str] = []
    for rule in enabled:
        matched = rule_matches(rule, claims)
        if not matched:
            continue
        decision.matched_rules.append(rule.pk)
        if rule.action == Action.SET_DEPARTMENT:
            decision.department_code = rule.target
            decision.reasons.append(f"{rule.claim}={matched[0]} → department {rule.target}")
        elif rule.action == Action.DEPARTMENT_FROM_CLAIM:
            decision.department_code = matched[0]
            decision.reasons.append(f"{rule.claim} → department {matched[0]}")
        elif rule.action == Action.GRANT_ROLE and rule.target in Role.values:
            roles.add(rule.target)
            decision.reasons.append(f"{rule.claim}={matched[0]} → role {rule.target}")
        elif rule.action == Action.ADD_GROUP and rule.target:
            groups.append(rule.target)
            decision.reasons.append(f"{rule.claim}={matched[0]} → group {rule.target}")
        elif rule.action == Action.GROUP_FROM_CLAIM:
            groups.extend(matched)
            decision.reasons.append(f"{rule.claim} → groups {', '.join(matched)}")
    decision.roles = sorted(roles)
    decision.groups = sorted(set(groups))
    return decision
