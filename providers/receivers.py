"""Keep every process's in-memory gateway state in step with the database."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orgs.models import Department
from orgs.signals import user_access_revoked, user_permissions_changed
from providers.events import publish_on_commit
from providers.models import Deployment, Fallback, PriceEntry, RouterSettings, VirtualKey
from providers.runtime import get_runtime


@receiver(post_save, sender=Deployment)
@receiver(post_delete, sender=Deployment)
@receiver(post_save, sender=Fallback)
@receiver(post_delete, sender=Fallback)
@receiver(post_save, sender=RouterSettings)
@receiver(post_save, sender=PriceEntry)
@receiver(post_delete, sender=PriceEntry)
def configuration_changed(sender: Any, **kwargs: Any) -> None:
    get_runtime().forget_config()
    publish_on_commit({"type": "config.changed"})


@receiver(post_save, sender=VirtualKey)
@receiver(post_delete, sender=VirtualKey)
def keys_changed(sender: Any, **kwargs: Any) -> None:
    get_runtime().forget_keys()
    publish_on_commit({"type": "keys.changed"})


@receiver(user_access_revoked)
@receiver(user_permissions_changed)
def owner_changed(sender: Any, **kwargs: Any) -> None:
    """A deactivated owner's keys stop at once; a moved owner's usage follows the new department."""
    get_runtime().forget_keys()
    publish_on_commit({"type": "keys.changed"})


@receiver(post_save, sender=Department)
@receiver(post_delete, sender=Department)
def department_tree_changed(sender: Any, **kwargs: Any) -> None:
    """Department budgets and rate limits roll up the tree: a move changes who counts."""
    get_runtime().forget_costs()
    publish_on_commit({"type": "budgets.changed"})
