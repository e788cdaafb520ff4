"""What an attempt at one deployment is made with: the caller's own provider key
when they registered one (BYOK), and the request as the personal data guard lets
it leave the company network (screened only for deployments outside it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from asgiref.sync import sync_to_async
from django.utils.translation import gettext

from orgs.audit import audit_record
from orgs.models import User
from providers.config_import import SECRET_PARAMS
from providers.errors import GatewayError
from providers.pii.guard import PiiBlocked, pii_hits_record, screen_chat, screen_texts
from providers.pii.policy import apolicy_table
from providers.vault.lookup import OpenedCredential, abyok_credentials

if TYPE_CHECKING:
    from collections.abc import Callable

    from providers.keys import Caller
    from providers.snapshot import DeploymentEntry
    from providers.types import ChatRequest, DeploymentTarget, EmbeddingRequest


S = TypeVar("S")


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


@dataclass
class RequestScreens:
    """The personal data guard's verdicts for one client request, per model group:
    retries and deployments of the same group reuse them, and each is audited once."""

    caller: Caller
    chat: dict[str, ChatRequest] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)

    async def _record(self, entry: DeploymentEntry, action: str, counts: dict[str, int]) -> None:
        await sync_to_async(pii_hits_record)(
            user_id=self.caller.user_id,
            department_id=self.caller.department_id,
            model_name=entry.model_name,
            provider=entry.provider,
            action=action,
            counts=counts,
            source=self.caller.source,
        )

    async def _screened(
        self, entry: DeploymentEntry, screen: Callable[[str], tuple[S, dict[str, int]]]
    ) -> S:
        """Run ``screen`` with the policy's action for this caller and model; record
        what it found, and refuse (PiiBlocked) when the policy blocks."""
        action = (await apolicy_table()).action_for(self.caller.department_id, entry.model_name)
        try:
            result, counts = screen(action)
        except PiiBlocked as blocked:
            await self._record(entry, "block", blocked.counts)
            raise
        if counts:
            await self._record(entry, action, counts)
        return result

    async def chat_for(self, entry: DeploymentEntry, request: ChatRequest) -> ChatRequest:
        """``request`` as it may leave for ``entry``: unchanged inside the company
        network, else masked, passed or refused (PiiBlocked) as the policy says."""
        if not entry.external:
            return request
        if entry.model_name not in self.chat:

            def screen(action: str) -> tuple[ChatRequest, dict[str, int]]:
                screened = screen_chat(request, action=action)
                return screened.request, screened.counts if screened.found else {}

            self.chat[entry.model_name] = await self._screened(entry, screen)
        return self.chat[entry.model_name]

    async def inputs_for(self, entry: DeploymentEntry, request: EmbeddingRequest) -> list[str]:
        if not entry.external:
            return request.inputs
        if entry.model_name not in self.texts:

            def screen(action: str) -> tuple[list[str], dict[str, int]]:
                screened = screen_texts(request.inputs, action=action, model=entry.model_name)
                return screened.texts, screened.counts

            self.texts[entry.model_name] = await self._screened(entry, screen)
        return self.texts[entry.model_name]
