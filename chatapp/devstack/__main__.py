"""`python -m chatapp.devstack run|test|manage` — what `make run` and `make test` call."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from chatapp.devstack.processes import ServiceError
from chatapp.devstack.stack import PYTHON, ROOT, Stack
from chatapp.devstack.system import ensure_debian_package
from rag.ingestion.parsers.ocr import ocr_available

DATA_DIR = Path(os.environ.get("PLATFORM_DATA_DIR", ROOT / ".data"))
RUN_ENV_FILE = DATA_DIR / "run-env.json"
DEMO_MODELS_CONFIG = ROOT / "config" / "models.demo.yaml"


class Stop(Exception):
    """Raised from the signal handler to leave the supervisor loop."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def command_run(args: argparse.Namespace) -> int:
    ensure_debian_package("msgfmt", "gettext", purpose="compiling the Korean translations")
    stack = Stack(data_dir=DATA_DIR, persist=True)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        stack.start_databases()
        stack.env.setdefault("DJANGO_ALLOWED_HOSTS", f"127.0.0.1,localhost,{args.host}")
        stack.env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
        stack.start_demo_llm()  # loads while the database is brought up to date
        stack.start_embedder()
        stack.manage("setup_platform", "--models-config", str(DEMO_MODELS_CONFIG))
        stack.wait_demo_llm()
        stack.wait_embedder()
        stack.log("Database migrated, admin and demo model configured")
        stack.start_celery()
        stack.start_web(args.host, args.port)
        RUN_ENV_FILE.write_text(json.dumps(_public_env(stack.env)), encoding="utf-8")
        RUN_ENV_FILE.chmod(0o600)
        stack.log(f"Ready: http://{args.host}:{args.port}/   (Ctrl-C stops everything)")
        while True:
            dead = stack.first_dead()
            if dead is not None:
                stack.log(f"{dead.name} exited with code {dead.process.returncode}; stopping")
                return 1
            time.sleep(0.5)
    except Stop:
        stack.log("Stopping ...")
        return 0
    except (ServiceError, subprocess.CalledProcessError) as exc:
        sys.stderr.write(f"make run failed: {exc}\n")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        RUN_ENV_FILE.unlink(missing_ok=True)
        stack.log("Stopped.")


def _public_env(env: dict[str, str]) -> dict[str, str]:
    keys = (
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_SECRET_KEY_FILE",
        "PROVIDER_SECRETS_KEY_FILE",
        "VAULT_MASTER_KEY_FILE",
        "DJANGO_HTTPS",
        "DJANGO_MEDIA_ROOT",
        "DJANGO_STATIC_ROOT",
        "DEMO_LLM_API_BASE",
        "DEMO_EMBEDDING_API_BASE",
        "DJANGO_ALLOWED_HOSTS",
        "EMAIL_BACKEND",
    )
    return {k: env[k] for k in keys if k in env}


def command_manage(args: argparse.Namespace) -> int:
    """Run a manage.py command against the stack that `make run` started."""
    if not RUN_ENV_FILE.exists():
        sys.stderr.write("The platform is not running: start it with `make run` first.\n")
        return 1
    env = {**os.environ, **json.loads(RUN_ENV_FILE.read_text(encoding="utf-8"))}
    return subprocess.run(
        [PYTHON, "manage.py", *args.rest], env=env, cwd=ROOT, check=False
    ).returncode


def command_test(args: argparse.Namespace) -> int:
    ensure_debian_package("msgfmt", "gettext", purpose="compiling the Korean translations")
    # Without it the compose tests fail with their own message.
    ensure_debian_package("docker-compose", "docker-compose", purpose="validating compose.yaml")
    ensure_debian_package("tesseract", "tesseract-ocr", purpose="OCR of scanned documents")
    ensure_debian_package(
        "tesseract", "tesseract-ocr-kor", purpose="Korean OCR", present=ocr_available
    )
    if not ensure_debian_package("chromium", "chromium", purpose="browser tests"):
        return 1
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="test-", dir=DATA_DIR))
    stack = Stack(data_dir=scratch, persist=False)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        stack.start_databases()
        stack.env["DJANGO_SETTINGS_MODULE"] = "chatapp.settings_test"
        stack.env["PLATFORM_TEST_DATA_DIR"] = str(scratch)
        stack.manage("compilemessages", "-v", "0", "--ignore", ".venv")
        stack.log("Services up; running pytest")
        rest = [a for a in args.rest if a != "--"]
        result = subprocess.run(
            [PYTHON, "-m", "pytest", *rest], env=stack.env, cwd=ROOT, check=False
        )
        return result.returncode
    except Stop:
        return 130
    except (ServiceError, subprocess.CalledProcessError) as exc:
        sys.stderr.write(f"make test could not start its services: {exc}\n")
        return 1
    finally:
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m chatapp.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole platform (make run)")
    run.add_argument("--host", default=os.environ.get("RUN_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("RUN_PORT", "8000")))
    run.set_defaults(func=command_run)
    test = sub.add_parser("test", help="start services and run pytest (make test)")
    test.add_argument("rest", nargs=argparse.REMAINDER)
    test.set_defaults(func=command_test)
    manage = sub.add_parser("manage", help="manage.py against the running `make run` stack")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=command_manage)
    args = parser.parse_args()
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
