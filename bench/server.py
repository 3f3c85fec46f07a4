"""Run the real server (`hocso serve`: one uvicorn worker) on a loopback port, and watch its memory."""

import asyncio
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, data_dir: Path, *, worker_in_process: bool, port: int,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCSO_")}
    env.update(
        {
            "HOCSO_ENV": "development",
            "HOCSO_DATABASE_URL": database_url,
            "HOCSO_DATA_DIR": str(data_dir),
            "HOCSO_JWT_KEYS_DIR": str(data_dir / "keys"),
            "HOCSO_HOST": "127.0.0.1",
            "HOCSO_PORT": str(port),
            "HOCSO_WORKERS": "1",
            "HOCSO_LOG_LEVEL": "INFO",
            "HOCSO_RUN_WORKER_IN_PROCESS": "true" if worker_in_process else "false",
            "HOCSO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Server:
    pid: int
    port: int
    log_path: Path
    rss_samples: list[int] = field(default_factory=list)

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.pid)

    def rss(self) -> int:
        return self.process.memory_info().rss

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system


def _hocso_command() -> list[str]:
    exe = Path(sys.executable).parent / "hocso"
    return [str(exe), "serve"] if exe.exists() else [sys.executable, "-m", "app.cli", "serve"]


@contextmanager
def running_server(
    database_url: str,
    data_dir: Path,
    *,
    worker_in_process: bool = False,
    server_cpu: int | None = None,
    startup_timeout_s: float = 60,
    extra_env: dict[str, str] | None = None,
    app_factory: str | None = None,
):
    """Start `hocso serve` (one worker), wait until /healthz answers; stop it afterwards (SIGTERM, then
    SIGKILL)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    env = server_env(database_url, data_dir, worker_in_process=worker_in_process, port=port, extra=extra_env)
    command = _hocso_command()
    if app_factory:  # an experiment: the same uvicorn settings, another app factory (bench/experiments.py)
        command = [sys.executable, "-m", "uvicorn", "--factory", app_factory, "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--no-access-log"]
    if server_cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(server_cpu), *command]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(port, proc, startup_timeout_s)
        yield Server(pid=proc.pid, port=port, log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(port: int, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s

    def probe() -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering; see its log")
        if probe():
            return
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer /healthz within {timeout_s} s")


class MemoryWatch:
    """Samples the server's RSS every `every_s` while a load runs (max, and the last value)."""

    def __init__(self, server: Server, every_s: float = 0.2) -> None:
        self.server, self.every_s = server, every_s
        self.samples: list[int] = []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            self.samples.append(self.server.rss())
            await asyncio.sleep(self.every_s)

    def __enter__(self) -> "MemoryWatch":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
        self.samples.append(self.server.rss())

    @property
    def peak(self) -> int:
        return max(self.samples) if self.samples else 0
