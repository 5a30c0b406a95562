"""Running the stack on this machine: the local Kafka of ops/kafka, worker processes (one or
a group of N), and a consumer of the three output topics. Used by `claims-processor demo` and the broker tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

REPO = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO / "ops" / "kafka" / "kafka.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_settings(
    bootstrap: str,
    prefix: str,
    app_id: str,
    *,
    web_port: int | None = None,
    web_host: str = "127.0.0.1",
    log_level: str = "INFO",
    **extra: str,
) -> dict[str, str]:
    """The CLAIMS_* settings of a worker (or the bench's relay) on the local stack: its
    broker, topic prefix, consumer group, with `web_port` its web server, and its local
    state in a fresh temporary directory unless CLAIMS_DATA_DIR is given."""
    settings = {
        "CLAIMS_KAFKA_BOOTSTRAP": bootstrap,
        "CLAIMS_TOPIC_PREFIX": prefix,
        "CLAIMS_APP_ID": app_id,
        "CLAIMS_LOG_LEVEL": log_level,
    }
    if "CLAIMS_DATA_DIR" not in extra:
        settings["CLAIMS_DATA_DIR"] = tempfile.mkdtemp(prefix="claims-state-")
    if web_port is not None:
        settings |= {"CLAIMS_WEB_HOST": web_host, "CLAIMS_WEB_PORT": str(web_port)}
    return settings | extra


@dataclass
class LocalKafka:
    port: int
    run_dir: Path
    started_in: float = 0.0
    # KRaft's controller listener; None: kafka.sh's default, the client port + 1 (which may
    # be any other process's socket: `on_free_ports` chooses both)
    controller_port: int | None = None
    # start() chooses new free ports when one was taken before the broker bound it
    choose_ports: bool = False

    @classmethod
    def on_free_ports(cls, run_dir: Path) -> LocalKafka:
        """A broker for tests and benchmarks: both ports free when chosen, chosen again if
        another process takes one before the broker binds it."""
        return cls(
            port=free_port(), run_dir=run_dir, controller_port=free_port(), choose_ports=True
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            **(
                {"KAFKA_CONTROLLER_PORT": str(self.controller_port)} if self.controller_port else {}
            ),
            "KAFKA_RUN_DIR": str(self.run_dir),
            "PYTHON": sys.executable,
        }

    def start(self) -> None:
        """Start the broker. With `choose_ports`, a port taken between choosing it and the
        broker binding it (another process's socket) is chosen again, three times at most."""
        if not KAFKA_SCRIPT.is_file():
            raise RuntimeError(f"{KAFKA_SCRIPT} not found: the local Kafka needs a source checkout")
        started = time.perf_counter()
        attempts = 3 if self.choose_ports else 1
        for attempt in range(1, attempts + 1):
            done = self._script("start")
            if done.returncode == 0:
                break
            if attempt == attempts or "Address already in use" not in self._log_and(done.stderr):
                raise RuntimeError(f"local Kafka did not start:\n{done.stderr[-3000:]}")
            self.stop()
            self.port, self.controller_port = free_port(), free_port()
        self.started_in = time.perf_counter() - started

    def _log_and(self, stderr: str) -> str:
        try:
            return stderr + (self.run_dir / "server.log").read_text(errors="replace")[-20_000:]
        except OSError:
            return stderr

    def _script(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KAFKA_SCRIPT), command],
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )

    def stop(self) -> None:
        self._script("stop")

    @property
    def pid(self) -> int | None:
        try:
            return int((self.run_dir / "kafka.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def restart(self) -> float:
        """Stop the broker and start it again on the same data; returns the seconds taken."""
        started = time.perf_counter()
        done = self._script("restart")
        if done.returncode != 0:
            raise RuntimeError(f"local Kafka did not restart:\n{done.stderr[-3000:]}")
        return time.perf_counter() - started


@dataclass
class WorkerProcess:
    """`claims-processor worker` in a child process with the given CLAIMS_* settings."""

    settings: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    ready_in: float = 0.0
    _started: float = 0.0

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.get('CLAIMS_WEB_HOST', '127.0.0.1')}:{self.settings['CLAIMS_WEB_PORT']}"

    def start(self, timeout: float = 90.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        env = {**os.environ, **self.settings}
        self._started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "processor", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.get("/ready")[0] == 200:
                self.ready_in = time.perf_counter() - self._started
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.web_url + path, timeout=2) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, ""

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far, from /proc/PID/stat."""
    try:
        return _stat_cpu(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return float("nan")


def jit_cpu_seconds(pid: int) -> float:
    """CPU the JVM's JIT compiler threads ("C1/C2 CompilerThread<n>") of a Java process have
    used so far: a fresh broker spends much of its first minutes compiling, which a broker
    that has run for a while does not."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended
        if "CompilerThre" in stat[stat.index("(") + 1 : stat.rindex(")")]:
            total += _stat_cpu(stat)
    return total


def _stat_cpu(stat: str) -> float:
    """User + system CPU seconds from a /proc stat line."""
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class WorkerGroup:
    """N worker processes of one consumer group, as one per core on a machine runs them:
    each has its own web port and its own CLAIMS_WORKER_INDEX (its static group membership
    id and state folder)."""

    workers: list[WorkerProcess]

    @classmethod
    def of(
        cls, count: int, settings: dict[str, str], log_dir: Path, *, web_port: int | None = None
    ) -> WorkerGroup:
        """`count` workers with these settings; web ports from `web_port` up (free ports
        when None)."""
        workers = []
        for index in range(count):
            port = web_port + index if web_port is not None else free_port()
            own = settings | {"CLAIMS_WEB_PORT": str(port), "CLAIMS_WORKER_INDEX": str(index)}
            workers.append(WorkerProcess(own, log_dir / f"worker-{index}.log"))
        return cls(workers)

    def start(self, timeout: float = 180.0) -> None:
        """Start all, then wait until each is ready (they load their code sets at once)."""
        try:
            for worker in self.workers:
                worker.launch()
            for worker in self.workers:
                worker.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers if w.process is not None]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def get(self, path: str) -> list[tuple[int, str]]:
        return [worker.get(path) for worker in self.workers]

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.stop()


@dataclass
class Output:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


@dataclass
class Collected:
    records: list[Output] = field(default_factory=list)

    def by_topic(self, topic: str) -> list[Output]:
        return [r for r in self.records if r.topic == topic]


async def collect(bootstrap: str, topics: list[str], expected: int, timeout: float) -> Collected:
    """Read the topics from the beginning until `expected` records arrived or the timeout,
    then keep reading one more second to catch any surplus (a duplicate would show)."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    collected = Collected()
    try:
        deadline = time.monotonic() + timeout
        grace_until: float | None = None
        while time.monotonic() < deadline and (
            grace_until is None or time.monotonic() < grace_until
        ):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    collected.records.append(
                        Output(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
                    )
            if grace_until is None and len(collected.records) >= expected:
                grace_until = time.monotonic() + 1.0
    finally:
        await consumer.stop()
    return collected


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(coro: Any) -> Any:
    return asyncio.run(coro)
