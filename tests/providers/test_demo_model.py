"""The demo engine `make run` starts (llama.cpp + SmolLM2), called through the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from providers import gateway
from providers.types import ChatMessage, ChatRequest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_demo_model_answers_through_the_gateway(
    demo_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the demo config applied exactly as `make run` does
    monkeypatch.setenv("DEMO_LLM_API_BASE", demo_engine)
    call_command("apply_models_config", str(ROOT / "config" / "models.demo.yaml"))
    [info] = gateway.models(mode="chat")
    assert info.name == "smollm2-135m-demo"
    assert "English only" in info.description
    request = ChatRequest(
        model="smollm2-135m-demo",
        messages=[ChatMessage(role="user", content="Name a color.")],
        max_tokens=16,
        temperature=0,
    )
    # when
    response = gateway.chat(request)
    streamed = list(gateway.stream(request))
    # then real generated text came back, with usage
    assert response.content.strip()
    assert response.usage.completion_tokens > 0
    assert "".join(c.delta for c in streamed).strip()
    assert any(c.usage and c.usage.completion_tokens > 0 for c in streamed)
