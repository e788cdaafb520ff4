"""The documents page tells the upload limits before anyone uploads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client

from tests.personas import Personas

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

pytestmark = pytest.mark.django_db


def test_the_page_states_the_limits_and_hands_them_to_the_script(
    client: Client, personas: Personas, settings: Settings
) -> None:
    settings.RAG_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    settings.RAG_MAX_PAGES = 300
    settings.OCR_ENABLED = False
    client.force_login(personas.member)
    page = client.get("/documents/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-max-bytes="5242880"' in page
    assert "Up to 5 MB and 300 pages per file." in page
    assert "OCR is not installed" in page
    assert "The file is larger than 5 MB." in page


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/documents/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
