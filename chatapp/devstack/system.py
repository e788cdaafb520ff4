"""Debian packages the local commands need, installed when missing and possible."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

_updated = {"done": False}


def ensure_debian_package(
    binary: str, package: str, *, purpose: str, present: Callable[[], bool] | None = None
) -> bool:
    """Make ``binary`` available (or ``present()`` true, for packages without a binary of
    their own), installing ``package`` with apt-get as root if needed.

    Returns False (after saying why) when it is missing and cannot be installed.
    """

    def installed() -> bool:
        return present() if present is not None else shutil.which(binary) is not None

    if installed():
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.stderr.write(
            f"{binary} is missing ({purpose}); install the Debian package {package}.\n"
        )
        return False
    sys.stderr.write(f"Installing {package} for {purpose} ...\n")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _updated["done"]:
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        _updated["done"] = True
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    if result.returncode != 0 or not installed():
        sys.stderr.write(f"Could not install {package}; {purpose} is unavailable.\n")
        return False
    return True
