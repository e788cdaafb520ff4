"""The PII policy as the gateway reads it: a frozen table, cached per process.

``policy_table()`` / ``await apolicy_table()`` return the current ``PolicyTable``;
it is reloaded (two queries) when older than ``CACHE_SECONDS`` and dropped at once
when a rule is saved through ``providers.pii.services`` in this process or when
``PII_DEFAULT_ACTION`` changes. Other processes pick a change up within
``CACHE_SECONDS`` (an async server reloads beside its requests, see
``providers.reloading``). The precedence rule is documented on ``PiiPolicy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings

from orgs.models import Department
from providers.pii.models import PiiPolicy
from providers.reloading import Reloading

if TYPE_CHECKING:
    from collections.abc import Mapping

CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Resolution:
    """The action for one caller and model, and the rule it comes from: the rule's
    department (None: organisation-wide) and model name ("": every model), or
    ``from_default`` when no rule applies."""

    action: str
    department_id: int | None = None
    model_name: str = ""
    from_default: bool = False


@dataclass(frozen=True)
class PolicyTable:
    """Every rule, keyed by department id (None: organisation-wide) then model name
    ("": every model), with each department's chain of ancestors (nearest first)."""

    rules: Mapping[int | None, Mapping[str, str]]
    ancestors: Mapping[int, tuple[int, ...]]
    default_action: str

    def resolve(self, department_id: int | None, model_name: str) -> Resolution:
        chain: tuple[int | None, ...] = (None,)
        if department_id is not None:
            chain = (*self.ancestors.get(department_id, (department_id,)), None)
        for level in chain:
            rules = self.rules.get(level)
            if not rules:
                continue
            if model_name in rules:
                return Resolution(rules[model_name], level, model_name)
            if "" in rules:
                return Resolution(rules[""], level, "")
        return Resolution(self.default_action, from_default=True)

    def action_for(self, department_id: int | None, model_name: str) -> str:
        """``allow``, ``mask`` or ``block`` for a caller whose primary department is
        ``department_id`` (None: no department) calling ``model_name``."""
        return self.resolve(department_id, model_name).action

    def model_names(self) -> set[str]:
        """Every model some rule names."""
        return {name for rules in self.rules.values() for name in rules if name}


def policy_table_load() -> PolicyTable:
    """Read every rule and, when some rule names a department, every department's path
    (at most two queries)."""
    rules: dict[int | None, dict[str, str]] = {}
    for department_id, model_name, action in PiiPolicy.objects.values_list(
        "department_id", "model_name", "action"
    ):
        rules.setdefault(department_id, {})[model_name] = action
    ancestors: dict[int, tuple[int, ...]] = {}
    if any(key is not None for key in rules):
        for department_id, path in Department.objects.values_list("id", "path"):
            ids = [int(part) for part in path.strip("/").split("/") if part]
            ancestors[department_id] = tuple(reversed(ids)) or (department_id,)
    return PolicyTable(rules=rules, ancestors=ancestors, default_action=_default_action())


def _default_action() -> str:
    return str(settings.PII_DEFAULT_ACTION)


class PolicyCache(Reloading["PolicyTable"]):
    """One per process (made in ``PiiConfig.ready``); see ``providers.reloading``."""

    def __init__(self, max_age: float = CACHE_SECONDS) -> None:
        super().__init__("personal data policy", policy_table_load, max_age=max_age)


def policy_cache() -> PolicyCache:
    config = apps.get_app_config("pii")
    cache: PolicyCache = config.policy_cache  # type: ignore[attr-defined]
    return cache


def policy_table() -> PolicyTable:
    """The current table (blocking; may query the database)."""
    return policy_cache().get()


async def apolicy_table() -> PolicyTable:
    """The current table, from async code: no database access while it is fresh."""
    return await policy_cache().aget()
