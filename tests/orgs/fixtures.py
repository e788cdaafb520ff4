from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest

from orgs.models import User

_sequence = count(1)


@pytest.fixture
def user_factory(db: None) -> Callable[..., User]:
    def make(
        *, email: str | None = None, password: str | None = "s3cret-pass-word", **extra: Any
    ) -> User:
        email = email or f"user{next(_sequence)}@acme.test"
        return User.objects.create_user(email, password, **extra)

    return make
