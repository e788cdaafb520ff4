"""Every user-facing string has a Korean translation, and pages render in Korean."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("chatapp", "orgs", "providers", "rag", "templates", "locale")


def untranslated_entries(po_text: str) -> list[str]:
    entries = po_text.split("\n\n")[1:]  # the first block is the header
    missing = []
    for entry in entries:
        if "#, fuzzy" in entry:
            missing.append(entry)
            continue
        msgstrs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', entry, re.MULTILINE)
        if entry.strip() and not any(first or rest.strip() for first, rest in msgstrs):
            missing.append(entry)
    return missing


def test_every_string_in_the_code_has_a_korean_translation(tmp_path: Path) -> None:
    # given a copy of the sources, so extraction does not touch the work tree
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    # when the strings are extracted afresh
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-location", "--no-obsolete"],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # then none is left without a Korean text
    po_text = (tmp_path / "locale" / "ko" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert untranslated_entries(po_text) == []


@pytest.mark.django_db
def test_sign_in_page_follows_the_browser_language(client: Client) -> None:
    korean = client.get("/accounts/login/", headers={"accept-language": "ko-KR,ko;q=0.9"})
    english = client.get("/accounts/login/", headers={"accept-language": "en-US,en;q=0.9"})
    assert "회사 계정으로 로그인하세요." in korean.content.decode()
    assert "Use your company account." in english.content.decode()
