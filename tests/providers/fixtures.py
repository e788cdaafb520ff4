from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from providers.models import Deployment
from tests.fake_upstream import FakeUpstream


@pytest.fixture
def deployment_factory(db: None, fake_upstream: FakeUpstream) -> Callable[..., Deployment]:
    """A chat deployment pointing at the fake upstream unless told otherwise."""

    def make(model_name: str = "fake-chat", **fields: Any) -> Deployment:
        fields.setdefault("provider", "openai")
        fields.setdefault("upstream_model", "gpt-fake")
        fields.setdefault("api_base", fake_upstream.base_url)
        return Deployment.objects.create(model_name=model_name, **fields)

    return make
