"""The benchmark's processes: a scratch stack, two fake upstreams (one as fast as it
can, one pacing its chunks as a model does its tokens), one daphne, and the Django-side
setup (a user, a deployment for each fake, a virtual key)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from chatapp.devstack.processes import (
    ManagedProcess,
    ServiceError,
    free_port,
    wait_for_http_ok,
    wait_for_port,
)
from chatapp.devstack.stack import PYTHON, ROOT, Stack

DATA_DIR = Path(os.environ.get("PLATFORM_DATA_DIR", ROOT / ".data"))
MODEL = "bench-model"
PACED_MODEL = "bench-model-paced"  # the same fake, its chunks paced as a model's tokens
USER_EMAIL = "bench@example.com"

MODELS_CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/bench-upstream
      api_base: {api_base}
      api_key: sk-bench-upstream-not-checked
      timeout: 60
    model_info:
      id: bench
      mode: chat
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: {paced_model}
    litellm_params:
      model: openai/bench-upstream
      api_base: {paced_api_base}
      api_key: sk-bench-upstream-not-checked
      timeout: 60
    model_info:
      id: bench-paced
      mode: chat
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
  timeout: 60
"""

CREATE_USER = f"""\
from orgs.models import User
User.objects.filter(email={USER_EMAIL!r}).exists() or User.objects.create_user({USER_EMAIL!r})
"""

# Waits until the ledger holds `expected` rows (or stops growing), then prints counts.
COUNT_LEDGER = """\
import json, time
from django.db.models import Count
from providers.models import UsageRecord
expected, last, since = {expected}, -1, time.monotonic()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    n = UsageRecord.objects.count()
    if n >= expected:
        break
    if n != last:
        last, since = n, time.monotonic()
    elif time.monotonic() - since > 5:
        break
    time.sleep(0.25)
rows = UsageRecord.objects.all()
print(json.dumps({{
    "rows": rows.count(),
    "final_rows": rows.filter(is_final=True).count(),
    "by_status": {{r["status"]: r["n"] for r in rows.values("status").annotate(n=Count("id"))}},
}}))
"""


def cpu_ms(process: psutil.Process) -> float:
    """User + system CPU time of the process itself (children not included), in ms."""
    times = process.cpu_times()
    return (float(times.user) + float(times.system)) * 1000


def system_cpu_ms(process: psutil.Process) -> float:
    """The kernel's share of ``cpu_ms`` (system calls: sockets, epoll), in ms."""
    return float(process.cpu_times().system) * 1000


def host_cpu_ticks() -> tuple[int, int]:
    """The machine's CPU time taken by the host (steal) and in all, in clock ticks since
    boot, over every CPU. On a virtual machine the host runs other guests on the same
    cores; while it does, every process here waits, whichever path it serves."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal
    return fields[7], sum(fields)


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the CPU time between two ``host_cpu_ticks`` the host took."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


@dataclass
class Services:
    stack: Stack
    scratch: Path
    fake: ManagedProcess
    daphne: ManagedProcess
    fake_origin: str
    gateway_origin: str
    key: str
    paced_fake: ManagedProcess
    paced_fake_origin: str
    chunk_delay_ms: float
    paced_delay_ms: float

    @property
    def daphne_process(self) -> psutil.Process:
        return psutil.Process(self.daphne.process.pid)

    @property
    def fake_process(self) -> psutil.Process:
        return psutil.Process(self.fake.process.pid)

    @property
    def paced_fake_process(self) -> psutil.Process:
        return psutil.Process(self.paced_fake.process.pid)

    def shell(self, code: str) -> str:
        """``manage.py shell -c CODE`` with the stack's environment; its stdout."""
        result = subprocess.run(  # noqa: S603 - our interpreter and manage.py
            [PYTHON, "manage.py", "shell", "-v", "0", "-c", code],
            env=self.stack.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def ledger_counts(self, expected: int) -> dict[str, object]:
        counts: dict[str, object] = json.loads(
            self.shell(COUNT_LEDGER.format(expected=expected)).strip().splitlines()[-1]
        )
        return counts


def fake_argv(port: int, chunk_delay_ms: float) -> list[str]:
    """The command that runs the fake upstream on ``port``, pausing before each chunk."""
    return [
        PYTHON,
        "-m",
        "tests.fake_upstream",
        "--port",
        str(port),
        "--chunk-delay",
        str(chunk_delay_ms / 1000),
    ]


def start_fake(
    stack: Stack, name: str, logs: Path, chunk_delay_ms: float
) -> tuple[ManagedProcess, str]:
    """The fake upstream as its own process; it and its origin once it answers."""
    port = free_port()
    fake = stack.spawn(name, fake_argv(port, chunk_delay_ms), log=logs / f"{name}.log")
    origin = f"http://127.0.0.1:{port}"
    wait_for_http_ok(
        f"{origin}/v1/models", timeout=30, process=fake.process, name=name, log=fake.log
    )
    return fake, origin


def start_services(
    stack: Stack, scratch: Path, *, chunk_delay_ms: float = 0.0, paced_delay_ms: float = 20.0
) -> Services:
    """Databases, migrations, the two fakes, their deployments and a key, then daphne."""
    logs = scratch / "logs"
    stack.start_databases()
    stack.env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatapp.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    stack.manage("migrate", "--noinput", "-v", "0")
    stack.log("Database migrated")

    fake, fake_origin = start_fake(stack, "fake-upstream", logs, chunk_delay_ms)
    stack.log(f"Fake upstream on {fake_origin}")
    paced_fake, paced_origin = start_fake(stack, "paced-fake-upstream", logs, paced_delay_ms)
    stack.log(f"Paced fake upstream ({paced_delay_ms:g} ms per chunk) on {paced_origin}")

    config = scratch / "models.bench.yaml"
    config.write_text(
        MODELS_CONFIG.format(
            model=MODEL,
            api_base=f"{fake_origin}/v1",
            paced_model=PACED_MODEL,
            paced_api_base=f"{paced_origin}/v1",
        ),
        encoding="utf-8",
    )
    stack.manage("apply_models_config", str(config))
    stack.manage("shell", "-v", "0", "-c", CREATE_USER)
    key = subprocess.run(  # noqa: S603 - our interpreter and manage.py
        [PYTHON, "manage.py", "create_virtual_key", "--user", USER_EMAIL, "--name", "bench"],
        env=stack.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not key.startswith("sk-"):
        raise ServiceError(f"create_virtual_key printed {key!r}, not a key")
    stack.log(f"User {USER_EMAIL}, deployment {MODEL} and a virtual key created")

    (scratch / "static").mkdir(exist_ok=True)  # whitenoise warns about a missing STATIC_ROOT
    daphne_port = free_port()
    daphne = stack.spawn(
        "daphne",
        [
            PYTHON,
            "-m",
            "chatapp.serve",
            "-v",
            "0",  # no access log: one line per request would dominate the CPU figures
            "-b",
            "127.0.0.1",
            "-p",
            str(daphne_port),
            "--proxy-headers",
            "chatapp.asgi:application",
        ],
        log=logs / "daphne.log",
    )
    wait_for_port(
        "127.0.0.1", daphne_port, timeout=60, process=daphne.process, name="daphne", log=daphne.log
    )
    gateway_origin = f"http://127.0.0.1:{daphne_port}"
    stack.log(f"daphne (chatapp.asgi:application) on {gateway_origin}, pid {daphne.process.pid}")
    return Services(
        stack,
        scratch,
        fake,
        daphne,
        fake_origin,
        gateway_origin,
        key,
        paced_fake,
        paced_origin,
        chunk_delay_ms,
        paced_delay_ms,
    )


@dataclass
class MemorySampler:
    """Samples a process's RSS once a second on a background thread."""

    process: psutil.Process
    interval: float = 1.0
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, bytes)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = int(self.process.memory_info().rss)
            except psutil.Error:
                return
            self.samples.append((time.monotonic(), rss))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def since(self, start: float) -> list[tuple[float, int]]:
        return [s for s in self.samples if s[0] >= start]


def _pin_tree(pid: int, cpus: set[int]) -> None:
    """Every thread of the process and of its children onto ``cpus`` (threads and
    processes started later inherit it)."""
    try:
        pids = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        return
    for each in pids:
        tasks = Path(f"/proc/{each}/task")
        for task in tasks.iterdir() if tasks.exists() else ():
            try:
                os.sched_setaffinity(int(task.name), cpus)
            except (ProcessLookupError, PermissionError):
                continue


def pin_cores(services: Services) -> str:
    """daphne on the first core; the fake upstream, the load generator and the databases
    on the others, as in production, where the gateway shares no core with the model
    server or its clients. A description of the split."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise ServiceError("--pin-cores needs at least two cores")
    server, rest = {cpus[0]}, set(cpus[1:])
    _pin_tree(services.daphne.process.pid, server)
    others = [p.process.pid for p in services.stack.processes if p is not services.daphne]
    postgres = services.stack.postgres
    if postgres is not None:
        pid_file = postgres.data_dir / "postmaster.pid"
        if pid_file.exists():
            others.append(int(pid_file.read_text(encoding="utf-8").split()[0]))
    for pid in [*others, os.getpid()]:
        _pin_tree(pid, rest)
    return f"daphne on CPU {cpus[0]}; the rest on CPU {','.join(map(str, sorted(rest)))}"
