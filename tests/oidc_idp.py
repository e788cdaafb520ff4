"""A real OpenID Connect provider for sign-in tests.

``TestIdP`` runs tests/oidc_provider/provider.mjs (npm ``oidc-provider``) on a free
loopback port: authorization-code flow with mandatory PKCE (S256), the built-in login
form (login = account id, any password), no consent page, and an RSA signing key made
fresh for every start. Accounts and their claims live in a JSON file that the provider
reads again on every lookup, so ``set_account`` between two sign-ins changes what the
next ID token says.

Fixtures (session-scoped; one provider process per distinct tuple of redirect URIs,
all stopped at session end):

    oidc_idp_factory(redirect_uris) -> TestIdP
    oidc_idp                           factory applied to ``oidc_redirect_uris``

``oidc_redirect_uris`` defaults to a callback nobody serves (``UNSERVED_CALLBACK``);
override it, or call the factory, with the app's real callback URL(s).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from chatapp.devstack.processes import ManagedProcess, ServiceError, free_port, wait_for_http_ok

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
PROVIDER_SCRIPT = PROVIDER_DIR / "provider.mjs"
UNSERVED_CALLBACK = "http://127.0.0.1:1/callback"
DEFAULT_CLIENT_ID = "sanae-platform"

Claims = dict[str, Any]
IdPFactory = Callable[[Sequence[str]], "TestIdP"]

_START_ATTEMPTS = 3
_LISTEN_FAILED_EXIT_CODE = 1
_FORM_ACTION = re.compile(r'<form[^>]*\baction="([^"]+)"', re.IGNORECASE)


class IdPSetupError(RuntimeError):
    """The test IdP cannot run here (Node.js/npm missing, npm ci failed, ...)."""


def _pinned_provider_version() -> str:
    package = json.loads((PROVIDER_DIR / "package.json").read_text(encoding="utf-8"))
    version: str = package["dependencies"]["oidc-provider"]
    return version


def _installed_provider_version() -> str | None:
    manifest = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    return version


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        raise IdPSetupError(
            "the test OpenID Connect provider needs Node.js 20+ on PATH "
            "(Debian: apt-get install nodejs npm)"
        )
    return node


def ensure_node_modules() -> None:
    """Install tests/oidc_provider's locked dependencies with ``npm ci`` if they are missing.

    Also reinstalls when node_modules holds another oidc-provider version than the pin.
    """
    node_executable()
    if _installed_provider_version() == _pinned_provider_version():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise IdPSetupError(
            f"{PROVIDER_DIR / 'node_modules'} is missing and npm is not on PATH; install npm "
            "(Debian: apt-get install npm) or run `npm ci` in tests/oidc_provider"
        )
    # Parallel test sessions on one checkout must not run npm ci over each other.
    lock_path = Path(tempfile.gettempdir()) / f"sanae-oidc-provider-{os.getuid()}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_provider_version() == _pinned_provider_version():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PROVIDER_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise IdPSetupError(
            f"`npm ci` in {PROVIDER_DIR} failed with exit code {result.returncode}:\n"
            + "\n".join(output)
        )


@functools.cache
def _log_dir() -> Path:
    """PLATFORM_TEST_DATA_DIR/logs like the other test services, else one temp dir per run."""
    data_dir = os.environ.get("PLATFORM_TEST_DATA_DIR")
    if data_dir:
        return Path(data_dir) / "logs"
    return Path(tempfile.mkdtemp(prefix="oidc-idp-logs-"))


class TestIdP:
    """One OpenID Connect provider process with one confidential client.

    ``issuer`` is the exact string to configure as the relying party's server URL (the
    ID token's ``iss``); always reach the provider through this spelling of the host.
    """

    __test__ = False  # a helper, not a test class

    def __init__(
        self,
        redirect_uris: Sequence[str],
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | None = None,
        token_endpoint_auth_method: str = "client_secret_basic",
        accounts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if isinstance(redirect_uris, str) or not redirect_uris:
            raise ValueError("redirect_uris must be a non-empty list of URLs")
        self.redirect_uris: tuple[str, ...] = tuple(redirect_uris)
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.token_endpoint_auth_method = token_endpoint_auth_method
        self._accounts: dict[str, Claims] = {
            account_id: dict(claims) for account_id, claims in (accounts or {}).items()
        }
        self._port: int | None = None
        self._process: ManagedProcess | None = None
        self._workdir: Path | None = None
        self.log: Path | None = None

    # -- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the test IdP is not started")
        return self._port

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    # -- accounts ----------------------------------------------------------------------

    @property
    def accounts(self) -> dict[str, Claims]:
        """A copy of every account's claims."""
        return copy.deepcopy(self._accounts)

    def set_account(self, account_id: str, **claims: Any) -> None:
        """Create or replace an account; ``claims`` become exactly its claims.

        Keys no scope maps (``_claim_names``, ``_claim_sources``, ``tid``, ...) are passed
        through into the ID token and userinfo as they are.
        """
        if not account_id:
            raise ValueError("account_id must not be empty")
        self._accounts[account_id] = copy.deepcopy(claims)
        self._write_accounts()

    def update_account(self, account_id: str, **claims: Any) -> None:
        """Change some claims of an existing account, keeping the others."""
        self._accounts[account_id] = {**self._accounts[account_id], **copy.deepcopy(claims)}
        self._write_accounts()

    def remove_account(self, account_id: str) -> None:
        """Delete an account; signing in as it then ends with ``error=access_denied``."""
        self._accounts.pop(account_id, None)
        self._write_accounts()

    def reset_accounts(self, accounts: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._accounts = {
            account_id: copy.deepcopy(dict(claims))
            for account_id, claims in (accounts or {}).items()
        }
        self._write_accounts()

    def _write_accounts(self) -> None:
        """Replace the accounts file atomically: the provider never reads half a file."""
        if self._workdir is None:
            return  # written by start()
        text = json.dumps(self._accounts, ensure_ascii=False, indent=2)
        fd, tmp = tempfile.mkstemp(dir=self._workdir, prefix=".accounts-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self._accounts_file)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @property
    def _accounts_file(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the test IdP is not started")
        return self._workdir / "accounts.json"

    # -- process -----------------------------------------------------------------------

    def alive(self) -> bool:
        return self._process is not None and self._process.alive()

    def start(self, *, timeout: float = 30.0) -> Self:
        if self.alive():
            return self
        ensure_node_modules()
        node = node_executable()
        self._workdir = Path(tempfile.mkdtemp(prefix="oidc-idp-"))
        self._write_accounts()
        clients = [
            {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "redirect_uris": list(self.redirect_uris),
                "token_endpoint_auth_method": self.token_endpoint_auth_method,
            }
        ]
        log_dir = _log_dir()
        for attempt in range(1, _START_ATTEMPTS + 1):
            self._port = free_port()
            self.log = log_dir / f"oidc-idp-{self._port}.log"
            env = {
                **os.environ,
                "PORT": str(self._port),
                "ISSUER": self.issuer,
                "CLIENTS_JSON": json.dumps(clients),
                "ACCOUNTS_FILE": str(self._accounts_file),
            }
            self._process = ManagedProcess.start(
                "oidc-idp",
                [node, str(PROVIDER_SCRIPT)],
                env=env,
                log=self.log,
                cwd=PROVIDER_DIR,
            )
            try:
                wait_for_http_ok(
                    self.discovery_url,
                    timeout=timeout,
                    process=self._process.process,
                    name="test OIDC provider",
                    log=self.log,
                )
            except ServiceError:
                exit_code = self._process.process.poll()
                self._process.stop()
                # Another process may have taken the free port before node bound it.
                if exit_code == _LISTEN_FAILED_EXIT_CODE and attempt < _START_ATTEMPTS:
                    continue
                self._remove_workdir()
                raise
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        self._remove_workdir()

    def _remove_workdir(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- driving the login form without a browser --------------------------------------

    def sign_in(
        self,
        authorize_url: str,
        account_id: str,
        *,
        password: str = "x",
        http: httpx.Client | None = None,
        max_hops: int = 10,
    ) -> str:
        """Follow an authorization request built by a relying party through the login form.

        Returns the absolute URL the provider finally redirects to (the relying party's
        redirect_uri with ``code``/``state``/``iss``, or with ``error=access_denied`` for
        an unknown account); that URL is not requested. Pass ``http`` to keep the IdP
        session between calls (single sign-on); by default every call is a fresh browser.
        """
        if not authorize_url.startswith(self.issuer + "/"):
            raise ValueError(f"{authorize_url} is not on this IdP ({self.issuer})")
        own_client = http is None
        client = http or httpx.Client(timeout=10)
        try:
            url = authorize_url
            response = client.get(url)
            for _ in range(max_hops):
                if response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    if not url.startswith(self.issuer + "/"):
                        return url
                    response = client.get(url)
                    continue
                if response.status_code == 200 and 'name="login"' in response.text:
                    action = _FORM_ACTION.search(response.text)
                    submit = urljoin(url, action.group(1)) if action else url
                    response = client.post(
                        submit,
                        data={"prompt": "login", "login": account_id, "password": password},
                    )
                    continue
                raise AssertionError(
                    f"test IdP answered {response.status_code} at {urlsplit(url).path}: "
                    f"{response.text[:500]}"
                )
            raise AssertionError(f"no redirect to the relying party after {max_hops} hops")
        finally:
            if own_client:
                client.close()


@pytest.fixture(scope="session")
def oidc_idp_factory() -> Iterator[IdPFactory]:
    """``factory(redirect_uris) -> TestIdP``: one started IdP per distinct tuple of URIs."""
    instances: dict[tuple[str, ...], TestIdP] = {}

    def factory(redirect_uris: Sequence[str]) -> TestIdP:
        key = tuple(redirect_uris) if not isinstance(redirect_uris, str) else (redirect_uris,)
        idp = instances.get(key)
        if idp is None:
            try:
                idp = TestIdP(key).start()
            except IdPSetupError as exc:
                pytest.fail(str(exc), pytrace=False)
            instances[key] = idp
        return idp

    yield factory
    for idp in instances.values():
        idp.stop()


@pytest.fixture(scope="session")
def oidc_redirect_uris() -> list[str]:
    """The client's registered redirect URIs; override with the app's callback URL(s)."""
    return [UNSERVED_CALLBACK]


@pytest.fixture(scope="session")
def oidc_idp(oidc_idp_factory: IdPFactory, oidc_redirect_uris: list[str]) -> TestIdP:
    return oidc_idp_factory(oidc_redirect_uris)
