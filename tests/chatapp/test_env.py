from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from chatapp.env import database_from_url, env_bool, env_int, env_list, env_secret, env_url


def test_env_bool_reads_common_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("FLAG_ON", "Yes")
    monkeypatch.setenv("FLAG_OFF", "0")
    # then
    assert env_bool("FLAG_ON", False) is True
    assert env_bool("FLAG_OFF", True) is False
    assert env_bool("FLAG_UNSET", True) is True


def test_env_bool_rejects_garbage_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG must be a boolean"):
        env_bool("DJANGO_DEBUG", False)


def test_env_int_checks_type_and_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "three")
    with pytest.raises(ImproperlyConfigured, match="WORKERS must be an integer"):
        env_int("WORKERS", 1)
    monkeypatch.setenv("WORKERS", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("WORKERS", 1, minimum=0)
    monkeypatch.setenv("WORKERS", " 4 ")
    assert env_int("WORKERS", 1) == 4


def test_env_list_splits_and_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example , ,b.example")
    assert env_list("HOSTS") == ["a.example", "b.example"]
    assert env_list("UNSET_LIST", ["x"]) == ["x"]


def test_env_secret_reads_file_variant(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # given a secret mounted as a file
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n", encoding="utf-8")
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.setenv("API_TOKEN_FILE", str(secret_file))
    # then
    assert env_secret("API_TOKEN") == "from-file"


def test_env_secret_refuses_both_sources_and_missing_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("API_TOKEN", "direct")
    monkeypatch.setenv("API_TOKEN_FILE", str(tmp_path / "x"))
    with pytest.raises(ImproperlyConfigured, match="only one of API_TOKEN and API_TOKEN_FILE"):
        env_secret("API_TOKEN")
    monkeypatch.delenv("API_TOKEN")
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_secret("API_TOKEN")
    monkeypatch.delenv("API_TOKEN_FILE")
    with pytest.raises(ImproperlyConfigured, match=r"API_TOKEN .* is required"):
        env_secret("API_TOKEN", required=True)


def test_env_url_checks_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "http://localhost:6379")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be a URL with scheme"):
        env_url("REDIS_URL", schemes=("redis",))


def test_database_from_url_handles_sockets_and_escapes() -> None:
    config = database_from_url("postgresql://app:p%40ss@db.internal:5433/platform?sslmode=require")
    assert config["NAME"] == "platform"
    assert config["PASSWORD"] == "p@ss"
    assert config["HOST"] == "db.internal"
    assert config["PORT"] == "5433"
    assert config["OPTIONS"] == {"sslmode": "require"}
    socket_config = database_from_url("postgresql://postgres:@/postgres?host=/tmp/pg")
    assert socket_config["HOST"] == "/tmp/pg"


def test_database_from_url_rejects_other_engines() -> None:
    with pytest.raises(ImproperlyConfigured, match="postgresql://"):
        database_from_url("mysql://u@h/db")
    with pytest.raises(ImproperlyConfigured, match="must name a database"):
        database_from_url("postgresql://u@h/")
