"""Artifacts are served alone, sandboxed, with no network, to their owner only."""

from __future__ import annotations

import pytest
from django.test import Client

from chatapp.artifacts import artifact_document, code_blocks
from chatapp.services import (
    assistant_message_finish,
    assistant_message_start,
    conversation_create,
    user_message_add,
)
from tests.personas import Personas

ANSWER = (
    "Here you are:\n\n```python\nprint(1)\n```\n\n"
    "```html\n<h1>차트</h1><script>document.title = 'ran'</script>\n```\n\n"
    '```svg\n<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>\n```\n'
)


def test_code_blocks_and_documents() -> None:
    assert [lang for lang, _ in code_blocks(ANSWER)] == ["python", "html", "svg"]
    assert artifact_document(ANSWER, 0) is None
    html = artifact_document(ANSWER, 1)
    assert html is not None
    assert "<h1>차트</h1>" in html[1]
    svg = artifact_document(ANSWER, 2)
    assert svg is not None
    assert svg[1].startswith("<!DOCTYPE html>")
    assert artifact_document(ANSWER, 9) is None


@pytest.mark.django_db
def test_artifact_view_is_sandboxed_and_private(client: Client, personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    question = user_message_add(conversation, text="차트를 그려줘", parent=None)
    answer = assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    assistant_message_finish(answer.pk, status="complete", tail=ANSWER)
    url = f"/chat/{conversation.pk}/m/{answer.pk}/artifact/1/"
    client.force_login(personas.member)
    response = client.get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "sandbox allow-scripts" in csp
    assert "default-src 'none'" in csp
    assert "connect-src 'none'" in csp
    assert "allow-same-origin" not in csp
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get(f"/chat/{conversation.pk}/m/{answer.pk}/artifact/0/").status_code == 404
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404
