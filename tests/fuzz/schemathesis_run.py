"""Schema fuzzing of the whole OpenAPI document against a live server, as CI runs it (issue 18, item 7).

    .venv/bin/python -m tests.fuzz.schemathesis_run [--max-time 60] [--examples 10]

Serves the app from a fresh SQLite data directory (migrated, demo data seeded, one learner registered), then
runs schemathesis (pinned in the dev extras) three times: anonymously, as that learner and as the demo
ministry admin, each bounded in examples per operation and in seconds. It fails on any 5xx and on answers that
break their declared schema. Exit status: 0 when every run passed.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,"
          "allow_header_conformance")
LEARNER = {"phone": "0912345670", "password": "hoc-so-moi-ngay-2026", "full_name": "Lê Học Viên",
           "province_code": "01", "audience": "citizen"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(base: str, username: str, password: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def server_log_tail(path: Path, lines: int = 200) -> list[str]:
    return path.read_text(errors="replace").splitlines()[-lines:]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-time", type=int, default=60, help="seconds per identity")
    parser.add_argument("--examples", type=int, default=10, help="generated examples per operation")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="hocso-fuzz-"))
    port = free_port()
    env = {**os.environ, "HOCSO_DATA_DIR": str(data), "HOCSO_PORT": str(port), "HOCSO_ENV": "development",
           "HOCSO_RUN_WORKER_IN_PROCESS": "false", "HOCSO_REGISTER_RATE_PER_HOUR": "100000",
           "HOCSO_VERIFY_RATE_PER_MINUTE": "100000", "HOCSO_LOGIN_IP_MAX_FAILURES": "100000"}
    env.pop("HOCSO_DATABASE_URL", None)
    subprocess.run([BIN / "hocso", "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run([BIN / "hocso", "demo", "seed"], env=env, check=True, cwd=ROOT, capture_output=True)
    admin = json.loads((data / "demo-admin.json").read_text())
    # The server's access log goes to a file (thousands of lines); its tail is printed only when a run fails.
    server_log = (data / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "app.serve"], env=env, cwd=ROOT, stdout=server_log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        httpx.post(f"{base}/api/v1/auth/register", json=LEARNER, timeout=30).raise_for_status()
        identities = {"anonymous": None,
                      "learner": token(base, LEARNER["phone"], LEARNER["password"]),
                      "ministry admin": token(base, admin["email"], admin["password"])}
        failed = []
        # One worker: with two, hypothesis describes its lambdas with ast.parse in two threads at once, and
        # CPython 3.11's parser then fails ("AST constructor recursion depth mismatch"): seen in CI, 2026-12-07.
        for who, bearer in identities.items():
            print(f"--- schemathesis as {who}", flush=True)
            command = [str(BIN / "st"), "run", f"{base}/openapi.json", "--checks", CHECKS,
                       "--max-examples", str(args.examples), "--max-time", str(args.max_time),
                       "--request-timeout", "20", "--workers", "1", "--no-shrink", "--seed", "2026"]
            if bearer:
                command += ["-H", f"Authorization: Bearer {bearer}"]
            if subprocess.run(command, cwd=data).returncode:
                failed.append(who)
        print("schemathesis:", "failed as " + ", ".join(failed) if failed else "no failures", flush=True)
        if failed:
            print("--- the server's last log lines", *server_log_tail(data / "server.log"), sep="\n", flush=True)
        return 1 if failed else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
