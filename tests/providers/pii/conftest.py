from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.pii.policy import policy_cache


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    """Rolled-back test transactions send no signal: start and end with no cached table."""
    policy_cache().invalidate()
    yield
    policy_cache().invalidate()
