from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from orgs.services import platform_admin_ensure


@pytest.mark.django_db
def test_first_platform_admin_gets_a_generated_password_once() -> None:
    # when
    first = platform_admin_ensure(email="Admin@ACME.test", password=None)
    second = platform_admin_ensure(email="admin@acme.test", password="other-password-1")
    # then
    assert first.created and first.generated_password
    assert first.user.email == "admin@acme.test"
    assert first.user.is_superuser and first.user.is_staff
    assert not second.created and second.generated_password is None
    assert authenticate(email="admin@acme.test", password=first.generated_password) == first.user
    assert authenticate(email="admin@acme.test", password="other-password-1") is None


@pytest.mark.django_db
def test_platform_admin_with_given_password() -> None:
    result = platform_admin_ensure(email="root@acme.test", password="given-pass-123")
    assert result.generated_password is None
    assert authenticate(email="root@acme.test", password="given-pass-123") == result.user


@pytest.mark.django_db
def test_only_the_first_platform_admin_is_created() -> None:
    first = platform_admin_ensure(email="root@acme.test", password="given-pass-123")
    again = platform_admin_ensure(email="admin@example.com", password=None)
    assert not again.created
    assert again.user == first.user
