"""A moto S3 server on a loopback port, started once per test session, so S3Storage is tested over real HTTP.

Import the fixtures into a conftest or test module: `from tests.s3_server import s3_endpoint, s3_settings`.
"""

import uuid
from collections.abc import Iterator

import pytest

from app.core.config import Settings


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    """The test settings switched to S3, with a bucket of this test's own."""
    return settings.model_copy(update={
        "storage": "s3", "s3_endpoint_url": s3_endpoint, "s3_bucket": f"t-{uuid.uuid4().hex[:12]}",
        "s3_access_key_id": "testing", "s3_secret_access_key": "testing", "s3_path_style": True,
        "s3_multipart_threshold": 5 * 1024 * 1024, "s3_part_size": 5 * 1024 * 1024,
    })
