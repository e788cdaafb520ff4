"""What the gateway does around every client request: rate limits and budget
reservation before the call, the real tokens and cost after it, alerts when a
budget crosses a threshold.

Estimate: prompt tokens counted with the tokenizer table (or the byte bound when
no budget needs money), output tokens from ``max_tokens`` or
``DEFAULT_OUTPUT_ESTIMATE``, priced at the most expensive deployment the request
could reach (its groups and fallbacks), so a reservation is never below what the
call may cost unless the answer outgrows the estimate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from providers.budgets import enforce, ratelimit
from providers.budgets.table import to_nano
from providers.tokens import count_prompt_tokens

if TYPE_CHECKING:
    from collections.abc import Callable

    from providers.budgets.enforce import Reservation
    from providers.budgets.ratelimit import Grant
    from providers.keys import Caller
    from providers.router import Plan
    from providers.runtime import GatewayRuntime
    from providers.snapshot import Snapshot
    from providers.types import ChatRequest, EmbeddingRequest

logger = logging.getLogger(__name__)
DEFAULT_OUTPUT_ESTIMATE = 1024
EMBEDDING_CHARS_PER_TOKEN = 2  # a generous bound for Korean and English text


@dataclass
class CallTally:
    """The real cost and tokens of a request's attempts, as the ledger records them."""

    cost_usd: Decimal = Decimal(0)
    tokens: int = 0

    def add(self, cost_usd: Decimal, tokens: int) -> None:
        self.cost_usd += cost_usd
        self.tokens += tokens


@dataclass
class CallGuard:
    reservation: Reservation | None = None
    grant: Grant | None = None
    tally: CallTally = field(default_factory=CallTally)


def _estimate(snapshot: Snapshot, plan: Plan, *, prompt_tokens: int, output_tokens: int) -> Decimal:
    highest = Decimal(0)
    for group in plan.groups:
        for entry in snapshot.groups.get(group, ()):
            prices = snapshot.prices_for(entry)
            cost = prices.input * prompt_tokens + prices.output * output_tokens
            highest = max(highest, cost)
    return highest


class TokenEstimate:
    """Prompt and output tokens a call may use, counted only when a limit or budget
    needs them (counting costs a tokenizer pass)."""

    def __init__(self, count: Callable[[], tuple[int, int]]) -> None:
        self._count = count
        self._value: tuple[int, int] | None = None

    def _get(self) -> tuple[int, int]:
        if self._value is None:
            self._value = self._count()
        return self._value

    @property
    def prompt(self) -> int:
        return self._get()[0]

    @property
    def output(self) -> int:
        return self._get()[1]


def chat_estimate(request: ChatRequest, provider: str) -> TokenEstimate:
    return TokenEstimate(
        lambda: (
            count_prompt_tokens(request, provider=provider),
            request.max_tokens or DEFAULT_OUTPUT_ESTIMATE,
        )
    )


def embedding_estimate(request: EmbeddingRequest) -> TokenEstimate:
    return TokenEstimate(
        lambda: (sum(len(text) for text in request.inputs) // EMBEDDING_CHARS_PER_TOKEN + 1, 0)
    )


async def guard_open(
    runtime: GatewayRuntime,
    snapshot: Snapshot,
    plan: Plan,
    caller: Caller,
    *,
    request_id: str,
    tokens: TokenEstimate,
) -> CallGuard:
    """Take from the rate limits and reserve on the budgets; raises RateLimited,
    BudgetExceeded or a 503 when Redis cannot be asked."""
    table = await runtime.cost_table()
    limits = table.limits_for(caller)
    budgets = table.budgets_for(caller)
    guard = CallGuard()
    if not limits and not budgets:
        return guard
    client = runtime.redis()
    guard.grant = await ratelimit.acquire(client, limits, tokens=tokens.prompt)
    if budgets:
        estimate = _estimate(
            snapshot, plan, prompt_tokens=tokens.prompt, output_tokens=tokens.output
        )
        try:
            guard.reservation = await enforce.reserve(
                client,
                rules=budgets,
                request_id=request_id,
                estimate_nano=to_nano(estimate, round_up=True),
                hold_seconds=plan.policy.timeout_seconds,
            )
        except BaseException:
            await ratelimit.adjust(client, guard.grant, actual_tokens=0)
            raise
    return guard


async def guard_close(runtime: GatewayRuntime, guard: CallGuard) -> None:
    """Settle the reservation with the real cost and correct the token counters."""
    if guard.grant is None and guard.reservation is None:
        return
    client = runtime.redis()
    await ratelimit.adjust(client, guard.grant, actual_tokens=guard.tally.tokens)
    if guard.reservation is None:
        return
    await enforce.settle(
        client, guard.reservation, actual_nano=to_nano(guard.tally.cost_usd, round_up=True)
    )
    for crossing in guard.reservation.crossings:
        budget_id = crossing.window.rule.budget_id
        if budget_id is None:
            continue
        await sync_to_async(_announce)(
            budget_id, crossing.window.start.isoformat(), crossing.threshold, crossing.spent_nano
        )


def _announce(budget_id: int, window_start: str, threshold: int, spent_nano: int) -> None:
    from providers.budgets.tasks import budget_alert_send

    try:
        budget_alert_send.delay(budget_id, window_start, threshold, spent_nano)
    except Exception:  # the broker is Redis; a lost alert must not fail the call
        logger.exception("could not enqueue a budget alert")
