"""`python -m bench.request_head [ROUNDS]`: what does the bounded request-head protocol cost a request?

Serves the real app (SQLite in a temporary directory) twice at once on loopback, pinned to core 1: once with
uvicorn's own `--http httptools`, once with `app.core.request_head:BoundedHeadProtocol`, which `hocso serve` uses.
`wrk -t1 -c20 -d6s` (Debian's wrk) on core 0 loads `/healthz` on each in turn; the figure is the server
process's CPU time over the requests it served, steadier than requests/s on a shared machine.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.server import free_port

PROTOCOLS = {"httptools": "httptools", "bounded": "app.core.request_head:BoundedHeadProtocol"}
ROOT = Path(__file__).resolve().parents[1]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def _start(protocol: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = ["taskset", "-c", "1", sys.executable, "-m", "uvicorn", "--factory", "app.main:build",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--http", protocol]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310 (loopback)
            return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the {protocol} server did not start") from None
            time.sleep(0.2)


def _round(proc: subprocess.Popen, port: int) -> float:
    before = _cpu_ticks(proc.pid)
    out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c20", "-d6s", f"http://127.0.0.1:{port}/healthz"],
                         capture_output=True, text=True, check=True).stdout
    requests = int(next(line for line in out.splitlines() if "requests in" in line).split()[0])
    return (_cpu_ticks(proc.pid) - before) / os.sysconf("SC_CLK_TCK") / requests * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    if not (shutil.which("wrk") and shutil.which("taskset")):
        sys.exit("needs wrk and taskset (Debian: wrk, util-linux)")
    data = Path(tempfile.mkdtemp(prefix="hocso-bench-head-"))
    env = {**os.environ, "HOCSO_DATA_DIR": str(data), "HOCSO_ENV": "development"}
    env.pop("HOCSO_DATABASE_URL", None)
    servers = {}
    try:
        subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        servers = {name: _start(protocol, env) for name, protocol in PROTOCOLS.items()}
        print("| round | " + " | ".join(f"{name}, µs CPU a request" for name in servers) + " |")
        print("| --- |" + " --- |" * len(servers))
        totals = dict.fromkeys(servers, 0.0)
        for n in range(1, rounds + 1):
            cells = []
            for name, (proc, port) in servers.items():
                micros = _round(proc, port)
                totals[name] += micros
                cells.append(f"{micros:.0f}")
            print(f"| {n} | " + " | ".join(cells) + " |")
        print("| mean | " + " | ".join(f"{total / rounds:.0f}" for total in totals.values()) + " |")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
