"""Outages answered as outages (issue 18, item 10): the database or the object store down is a 503 problem with
Retry-After, /readyz names which, and the service recovers without a restart.

Each test stops a server it started itself: a private PostgreSQL (initdb in a temporary directory, a free port)
and a private moto S3 server. The machine's shared PostgreSQL on 5432 is never touched.
"""

import asyncio
import contextlib
import glob
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
from alembic import command

from app.core.db import Database
from app.core.s3 import S3Storage
from app.main import create_app
from app.models.identity import Role
from tests.browser import free_port
from tests.conftest import alembic_config
from tests.factories import auth, make_user, token_for
from tests.factories.packages import SAMPLE_ZIP

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)


def _as_postgres(*argv: str) -> None:
    """PostgreSQL refuses to run as root: run its tools as the postgres user when we are root."""
    prefix = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") and _is_root() else []
    done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr[-2000:])


def _is_root() -> bool:
    import os
    return os.geteuid() == 0


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.data, self.port = root / "pgdata", free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if _is_root():
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        _as_postgres(f"{PG_BIN}/initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        _as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data / "log"), "-o",
                     f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off", "start")

    def stop(self) -> None:
        _as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")


@pytest.fixture
async def private_postgres():
    if PG_BIN is None:
        pytest.skip("PostgreSQL server binaries not installed")
    # Not under pytest's own temporary directory, which the postgres user may not enter.
    root = Path(tempfile.mkdtemp(prefix="hocso-private-pg-"))
    server = PrivatePostgres(root)
    await asyncio.to_thread(server.init)
    await asyncio.to_thread(server.start)
    await asyncio.to_thread(command.upgrade, alembic_config(server.url), "head")
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            await asyncio.to_thread(server.stop)
        shutil.rmtree(root, ignore_errors=True)


async def test_database_down_is_503_with_retry_after_and_the_pool_recovers(private_postgres, settings, keyring):
    own = settings.model_copy(update={"database_url": private_postgres.url, "catalogue_cache_ttl_s": 0,
                                      "run_worker_in_process": False, "db_pool_size": 2})
    database = Database(own)
    app = create_app(own, database=database, keys=keyring)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            assert (await c.get("/api/v1/courses")).status_code == 200
            await asyncio.to_thread(private_postgres.stop)
            for url in ("/api/v1/courses", "/api/v1/courses/ky-nang-so", "/api/v1/auth/register"):
                r = await (c.post(url, json={}) if url.endswith("register") else c.get(url))
                if url.endswith("register"):
                    assert r.status_code == 422  # validation answers before any database work
                    continue
                assert r.status_code == 503, r.text
                assert r.headers["content-type"] == "application/problem+json" and r.headers["x-request-id"]
                assert int(r.headers["retry-after"]) > 0 and r.json()["type"] == "/problems/database-unavailable"
            ready = await c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["reason"] == "database"
            await asyncio.to_thread(private_postgres.start)
            assert (await c.get("/api/v1/courses")).status_code == 200  # no restart needed
            assert (await c.get("/readyz")).status_code == 200
    finally:
        await database.dispose()


@pytest.fixture
def private_s3():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield server, f"http://{host}:{port}"
    with contextlib.suppress(Exception):  # stopped by the test already
        server.stop()


async def on_s3(settings, endpoint: str):
    """The test's settings pointed at the private S3 server, and its storage with a fresh bucket."""
    own = settings.model_copy(update={
        "storage": "s3", "s3_endpoint_url": endpoint, "s3_bucket": f"t-{uuid.uuid4().hex[:12]}",
        "s3_access_key_id": "testing", "s3_secret_access_key": "testing", "s3_path_style": True})
    storage = S3Storage(own)
    await storage.ensure_bucket()
    return own, storage


async def test_storage_down_is_503_for_uploads_and_readyz(private_s3, settings, db, session, keyring):
    server, endpoint = private_s3
    own, storage = await on_s3(settings, endpoint)
    app = create_app(own, database=db, storage=storage, keys=keyring)
    admin = await make_user(session, role=Role.content_admin)
    headers = auth(token_for(keyring, own, admin))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        assert (await c.get("/readyz")).status_code == 200
        server.stop()
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["reason"] == "storage"
        with SAMPLE_ZIP.open("rb") as f:
            r = await c.post("/api/v1/admin/course-packages", headers=headers,
                             files={"file": ("sample.zip", f, "application/zip")})
        assert r.status_code == 503, r.text
        assert r.json()["type"] == "/problems/storage-unavailable" and int(r.headers["retry-after"]) > 0


async def test_counters_verify_passes_after_the_database_comes_back(private_postgres, settings):
    """Issue 18, item 10: a completion recorded before the outage and one after are each counted once."""
    from sqlalchemy import func, select

    from app.core.faults import outage
    from app.models.completion import Completion
    from app.services.completion.completions import record_completion
    from app.services.counters import buckets as counters
    from tests.factories import make_course

    database = Database(settings.model_copy(update={"database_url": private_postgres.url, "db_pool_size": 2}))
    try:
        async with database.session() as session:
            course = (await make_course(session)).course
            before, after = await make_user(session, province_code="01"), await make_user(session, province_code="46")
            await record_completion(session, user=before, course=course, course_version=1)
        await asyncio.to_thread(private_postgres.stop)
        with pytest.raises(Exception) as refused:  # noqa: PT011 - whichever driver error the outage is
            async with database.session() as session:
                await record_completion(session, user=after, course=course, course_version=1)
        assert outage(refused.value) == "database"
        await asyncio.to_thread(private_postgres.start)
        async with database.session() as session:
            await record_completion(session, user=after, course=course, course_version=1)
        async with database.session() as session:
            assert await session.scalar(select(func.count()).select_from(Completion)) == 2
            report = await counters.verify(session)
        assert report.ok, report.differences
    finally:
        await database.dispose()


async def test_import_by_upload_id_with_storage_down_is_503(private_s3, settings, db, session, keyring):
    from app.services.content.packages.uploads import upload_key

    server, endpoint = private_s3
    own, storage = await on_s3(settings, endpoint)
    upload_id = uuid.uuid4()
    await storage.put_file(upload_key(upload_id), SAMPLE_ZIP, "application/zip")  # what the presigned PUT did
    app = create_app(own, database=db, storage=storage, keys=keyring)
    admin = await make_user(session, role=Role.content_admin)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        server.stop()
        r = await c.post(f"/api/v1/admin/course-packages/uploads/{upload_id}/import",
                         headers=auth(token_for(keyring, own, admin)))
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json" and int(r.headers["retry-after"]) > 0
    assert r.json()["type"] == "/problems/storage-unavailable"
