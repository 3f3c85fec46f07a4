"""moto's S3 server in a process of its own (so the objects it keeps in memory are not counted in the process
measured), on a loopback port; it can be stopped and started again on the same port, empty, for an outage."""

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from bench.server import free_port

BUCKET, ACCESS_KEY, SECRET_KEY = "hocso-bench", "bench", "bench-secret"


class MotoServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1)  # noqa: S310 (loopback)
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def client(self):  # noqa: ANN201 - a boto3 S3 client on this server
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}))

    def create_bucket(self) -> None:
        self.client().create_bucket(Bucket=BUCKET)

    def object_count(self) -> int:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return sum(page.get("KeyCount", 0) for page in pages)

    def env(self) -> dict[str, str]:
        """The HOCSO_ settings that point the app at this server."""
        return {"HOCSO_STORAGE": "s3", "HOCSO_S3_ENDPOINT_URL": self.endpoint, "HOCSO_S3_PATH_STYLE": "true",
                "HOCSO_S3_BUCKET": BUCKET, "HOCSO_S3_ACCESS_KEY_ID": ACCESS_KEY,
                "HOCSO_S3_SECRET_ACCESS_KEY": SECRET_KEY}


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
