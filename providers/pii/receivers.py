"""Drop this process's cached policy table when what it was built from changes."""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orgs.models import Department
from providers.events import publish_on_commit
from providers.pii.models import PiiPolicy
from providers.pii.policy import policy_cache


@receiver(post_save, sender=PiiPolicy)
@receiver(post_delete, sender=PiiPolicy)
@receiver(post_save, sender=Department)
def policy_changed(sender: Any, **kwargs: Any) -> None:
    # Now, and again after commit: a reload between the two would read the old rows.
    cache = policy_cache()
    cache.invalidate()
    transaction.on_commit(cache.invalidate)
    publish_on_commit({"type": "pii.changed"})  # the other processes


@receiver(setting_changed)
def default_changed(sender: Any, setting: str, **kwargs: Any) -> None:
    if setting == "PII_DEFAULT_ACTION":
        policy_cache().invalidate()
