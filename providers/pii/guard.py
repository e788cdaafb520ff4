"""Screen a request for personal data before it leaves for an external model.

The gateway resolves the action (``PolicyTable.action_for``), calls
``screen_chat`` or ``screen_texts`` and, when something was found, records it
with ``pii_hits_record``. Screening is pure CPU work on the event loop: texts
without a digit or an "@" are skipped at once, and the findings of long texts
seen recently (a chat's history, resent every turn) come from ``FindingsMemo``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from providers.errors import GatewayError
from providers.pii.detect import PiiKind, mask_pii, may_hold_pii
from providers.pii.memo import findings_memo
from providers.pii.models import PiiAction
from providers.pii.services import pii_hits_record

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from providers.types import ChatMessage, ChatRequest, ContentPart, ToolCall

__all__ = [
    "KIND_LABELS",
    "PiiBlocked",
    "Screened",
    "ScreenedTexts",
    "kind_label",
    "pii_hits_record",
    "screen_chat",
    "screen_texts",
]

KIND_LABELS: dict[PiiKind, _StrPromise] = {
    PiiKind.RESIDENT_NUMBER: gettext_lazy("resident registration number"),
    PiiKind.FOREIGNER_NUMBER: gettext_lazy("foreigner registration number"),
    PiiKind.BUSINESS_NUMBER: gettext_lazy("business registration number"),
    PiiKind.CARD_NUMBER: gettext_lazy("card number"),
    PiiKind.PHONE_NUMBER: gettext_lazy("phone number"),
    PiiKind.BANK_ACCOUNT: gettext_lazy("bank account number"),
    PiiKind.EMAIL: gettext_lazy("email address"),
}


def kind_label(kind: str) -> str:
    """The kind's name in the active language (the raw value for an unknown kind)."""
    try:
        return str(KIND_LABELS[PiiKind(kind)])
    except ValueError:
        return kind


class PiiBlocked(GatewayError):
    """The policy blocks personal data for this model and the request holds some.
    The message names the kinds and counts found, never the values."""

    status = 400
    code = "pii_blocked"

    def __init__(self, *, counts: dict[str, int], model: str) -> None:
        found = ", ".join(
            _("%(kind)s ×%(count)d") % {"kind": kind_label(kind), "count": count}  # noqa: RUF001
            for kind, count in counts.items()
        )
        super().__init__(
            _(
                "This request contains personal data (%(found)s), which may not be sent "
                "to the external model “%(model)s”. Remove it, or choose a model that "
                "runs inside the company."
            )
            % {"found": found, "model": model}
        )
        self.counts = dict(counts)
        self.model = model


@dataclass(frozen=True)
class Screened:
    """What screening did to a chat request. ``request`` is the one to send: the
    original when nothing was masked, else a masked copy. ``counts``: hits per kind
    (``PiiKind`` values), computed whatever the action."""

    request: ChatRequest
    action: str
    counts: dict[str, int]

    @property
    def found(self) -> bool:
        return bool(self.counts)

    @property
    def masked(self) -> bool:
        return self.action == PiiAction.MASK and bool(self.counts)


@dataclass(frozen=True)
class ScreenedTexts:
    """``screen_texts``' answer: ``texts`` to send (masked copies where needed)."""

    texts: list[str]
    action: str
    counts: dict[str, int]

    @property
    def found(self) -> bool:
        return bool(self.counts)


class _Screen:
    """Counts findings across the pieces of one request and masks each piece."""

    def __init__(self, *, mask: bool) -> None:
        self.mask = mask
        self.counts: Counter[str] = Counter()
        self.memo = findings_memo()

    def text(self, value: str) -> str:
        findings = self.memo.find(value)
        if not findings:
            return value
        self.counts.update(finding.kind.value for finding in findings)
        return mask_pii(value, findings) if self.mask else value

    def arguments(self, value: str) -> str:
        """Tool call arguments: a JSON text, screened value by value (so escapes are
        decoded and numbers are seen) and masked so that it stays valid JSON. A text
        that is not JSON is screened as plain text."""
        if not may_hold_pii(value):
            return value
        try:
            data = json.loads(value)
        except ValueError:
            return self.text(value)
        before = sum(self.counts.values())
        masked = self._json(data)
        if not self.mask or sum(self.counts.values()) == before:
            return value
        return json.dumps(masked, ensure_ascii=False)

    def _json(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, bool) or data is None or isinstance(data, float):
            return data
        if isinstance(data, int):
            screened = self.text(str(data))
            return data if screened == str(data) else screened
        if isinstance(data, list):
            return [self._json(item) for item in data]
        if isinstance(data, dict):
            return {self.text(str(key)): self._json(item) for key, item in data.items()}
        return data

    def result(self) -> dict[str, int]:
        if not self.counts:
            return {}
        return {kind.value: self.counts[kind.value] for kind in PiiKind if self.counts[kind.value]}


_ACTIONS = frozenset(PiiAction.values)  # Choices.values is rebuilt on every access


def _check_action(action: str) -> None:
    if action not in _ACTIONS:
        raise ValueError(f"unknown PII action {action!r}")


def screen_chat(request: ChatRequest, *, action: str) -> Screened:
    """Find personal data in every message's text parts, tool call arguments and tool
    results. ``mask``: returns a copy with each value replaced by its label;
    ``allow``: the request unchanged, hits still counted (for the audit);
    ``block``: raises ``PiiBlocked`` when anything was found. Never mutates
    ``request``."""
    _check_action(action)
    screen = _Screen(mask=action == PiiAction.MASK)
    messages = [_screen_message(message, screen) for message in request.messages]
    counts = screen.result()
    if counts and action == PiiAction.BLOCK:
        raise PiiBlocked(counts=counts, model=request.model)
    if not counts or action != PiiAction.MASK:
        return Screened(request=request, action=action, counts=counts)
    return Screened(
        request=dataclasses.replace(request, messages=messages), action=action, counts=counts
    )


def _screen_message(message: ChatMessage, screen: _Screen) -> ChatMessage:
    content = message.content
    new_content: str | list[ContentPart] | None = content
    if isinstance(content, str):
        new_content = screen.text(content)
    elif content is not None:
        new_content = [_screen_part(part, screen) for part in content]
    tool_calls = tuple(_screen_tool_call(call, screen) for call in message.tool_calls)
    if new_content == content and tool_calls == message.tool_calls:
        return message
    return dataclasses.replace(message, content=new_content, tool_calls=tool_calls)


def _screen_part(part: ContentPart, screen: _Screen) -> ContentPart:
    if part["type"] != "text":
        return part
    text = screen.text(part["text"])
    if text == part["text"]:
        return part
    return {"type": "text", "text": text}


def _screen_tool_call(call: ToolCall, screen: _Screen) -> ToolCall:
    arguments = screen.arguments(call.arguments)
    if arguments == call.arguments:
        return call
    return dataclasses.replace(call, arguments=arguments)


def screen_texts(texts: list[str], *, action: str, model: str) -> ScreenedTexts:
    """``screen_chat`` for embedding inputs; ``model`` names the model in the
    ``PiiBlocked`` message. Never mutates ``texts``."""
    _check_action(action)
    screen = _Screen(mask=action == PiiAction.MASK)
    screened = [screen.text(text) for text in texts]
    counts = screen.result()
    if counts and action == PiiAction.BLOCK:
        raise PiiBlocked(counts=counts, model=model)
    if counts and action == PiiAction.MASK:
        return ScreenedTexts(texts=screened, action=action, counts=counts)
    return ScreenedTexts(texts=texts, action=action, counts=counts)
