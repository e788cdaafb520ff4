"""What an attempt at one deployment is made with: the caller's own provider key
when they registered one (BYOK), and the request as the personal data guard lets
it leave the company network."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.utils.translation import gettext

from orgs.audit import audit_record
from orgs.models import User
from providers.config_import import SECRET_PARAMS
from providers.errors import GatewayError
from providers.vault.lookup import OpenedCredential, abyok_credentials

if TYPE_CHECKING:
    from providers.keys import Caller
    from providers.snapshot import DeploymentEntry
    from providers.types import DeploymentTarget


class OwnKeyRequired(GatewayError):
    status = 403
    code = "own_key_required"


async def own_key_for(entry: DeploymentEntry, caller: Caller) -> OpenedCredential | None:
    """The caller's (or their department's) key for this deployment's provider, when
    the deployment lets own keys be used; raises OwnKeyRequired where one is needed."""
    if entry.byok == "off":
        return None
    opened = await abyok_credentials(
        user_id=caller.user_id, department_id=caller.department_id, provider=entry.provider
    )
    if opened is None and entry.byok == "required":
        raise OwnKeyRequired(
            gettext(
                "The model '%(model)s' is used with your own %(provider)s key: register one "
                "under API keys first."
            )
            % {"model": entry.model_name, "provider": entry.provider}
        )
    return opened


def with_own_key(target: DeploymentTarget, opened: OpenedCredential) -> DeploymentTarget:
    """The deployment's target with the company's secrets replaced by the caller's."""
    secrets = dict(opened.secrets)
    credentials = {k: v for k, v in target.credentials.items() if k not in SECRET_PARAMS}
    api_key = secrets.pop("api_key", "")
    return dataclasses.replace(target, api_key=api_key, credentials={**credentials, **secrets})


def _own_key_use_record(
    *,
    caller: Caller,
    opened: OpenedCredential,
    entry: DeploymentEntry,
    request_id: str,
    status: str,
) -> None:
    actor = User.objects.filter(pk=caller.user_id).first() if caller.user_id else None
    audit_record(
        actor=actor,
        action="byok.use",
        target_repr=f"{opened.owner_kind} key …{opened.last4}",
        details={
            "credential": str(opened.credential_id),
            "owner": opened.owner_kind,
            "provider": entry.provider,
            "model": entry.model_name,
            "request_id": request_id,
            "status": status,
        },
    )


async def own_key_use_record(
    *,
    caller: Caller,
    opened: OpenedCredential,
    entry: DeploymentEntry,
    request_id: str,
    status: str,
) -> None:
    """Every call paid with an own key is audited (without the key)."""
    await sync_to_async(_own_key_use_record)(
        caller=caller, opened=opened, entry=entry, request_id=request_id, status=status
    )
