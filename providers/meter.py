"""One upstream attempt, timed and turned into a usage ledger row."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from providers.ledger import cost_usd
from providers.types import Usage

if TYPE_CHECKING:
    from uuid import UUID

    from providers.budgets.guard import CallTally
    from providers.errors import GatewayError
    from providers.keys import Caller
    from providers.runtime import GatewayRuntime
    from providers.snapshot import DeploymentEntry, Snapshot


@dataclass
class Meter:
    """Times and tokens of one attempt, turned into a ledger row."""

    request_id: str
    attempt: int
    caller: Caller
    operation: str
    model_group: str
    entry: DeploymentEntry
    streamed: bool
    started: float
    tally: CallTally
    first_token: float | None = None
    own_key_id: UUID | None = None  # the caller's own provider key paid for this attempt

    def record(
        self,
        runtime: GatewayRuntime,
        snapshot: Snapshot,
        *,
        usage: Usage | None,
        status: str,
        error: GatewayError | None,
        final: bool,
    ) -> None:
        now = time.monotonic()
        latency = now - self.started
        usage = usage or Usage()
        tps = None
        if usage.completion_tokens and self.first_token is not None and now > self.first_token:
            tps = usage.completion_tokens / (now - self.first_token)
        elif usage.completion_tokens and latency > 0:
            tps = usage.completion_tokens / latency
        runtime.stats.finished(
            self.entry.deployment_id, seconds=latency, tokens=usage.total_tokens, ok=status == "ok"
        )
        cost = cost_usd(snapshot.prices_for(self.entry), usage)
        self.tally.add(cost, usage.total_tokens)
        runtime.ledger.add(
            {
                "request_id": self.request_id,
                "attempt": self.attempt,
                "is_final": final,
                "created_at": datetime.now(UTC),  # timezone.now(), without reading settings
                "virtual_key_id": self.caller.key_id,
                "user_id": self.caller.user_id,
                "department_id": self.caller.department_id,
                "source": self.caller.source,
                "operation": self.operation,
                "model_group": self.model_group,
                "deployment_id": self.entry.deployment_id,
                "provider": self.entry.provider,
                "upstream_model": self.entry.upstream_model,
                "streamed": self.streamed,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "cached_tokens": usage.cached_tokens,
                "cost_usd": cost,
                "ttft_ms": (self.first_token - self.started) * 1000 if self.first_token else None,
                "latency_ms": latency * 1000,
                "tokens_per_second": tps,
                "status": status,
                "error_class": type(error).__name__ if error else "",
                "http_status": getattr(error, "status", None) if error else 200,
                "own_key_id": self.own_key_id,
            }
        )
