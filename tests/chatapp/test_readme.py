"""The README's configuration table documents every variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_is_documented() -> None:
    settings_source = (ROOT / "chatapp" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert names, "no variables found: the pattern no longer matches settings.py"
    undocumented = sorted(name for name in names if f"`{name}" not in readme)
    assert undocumented == []


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    assert "make test" in readme
