"""The settings module as production would load it, in a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "chatapp.settings",
    "DJANGO_SECRET_KEY": "k" * 30 + "-production-like-secret-key-9f8e7d6c5b4a",
    "DATABASE_URL": "postgresql://app:pw@db.internal:5432/platform",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "DJANGO_ALLOWED_HOSTS": "ai.acme.test",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_defaults() -> None:
    # when
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_safe() -> None:
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS > 0, \"'self'\" in s.CONTENT_SECURITY_POLICY['script-src'])"
    )
    result = run_manage("shell", "-c", script, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == ["False", "True", "True", "True", "True", "True"]


def test_missing_secret_key_is_a_clear_error() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is required"
        in result.stderr
    )


def test_malformed_value_is_a_clear_error() -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_HSTS_SECONDS": "a year"})
    assert result.returncode != 0
    assert "DJANGO_HSTS_SECONDS must be an integer, got 'a year'" in result.stderr
