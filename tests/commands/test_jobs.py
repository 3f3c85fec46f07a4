"""`hocso jobs retry`, run as an operator would, against committed data."""

import anyio.to_thread
from sqlalchemy import select
from typer.testing import CliRunner, Result

from app.cli import app as hocso
from app.models.base import utcnow
from app.models.jobs import Job, JobKind, JobStatus
from app.services import jobs


async def invoke(*args: str) -> Result:
    # asyncio.run inside the command needs a thread without a running event loop.
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, list(args)))


async def test_jobs_retry_requeues_failed_jobs_of_the_kind_asked(monkeypatch, operator_env, committed_db):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    async with committed_db.session() as session:
        for kind in (JobKind.issue_certificate, JobKind.issue_certificate, JobKind.import_package):
            job = jobs.enqueue(session, kind, {})
            job.status, job.attempts, job.finished_at = JobStatus.failed, 3, utcnow()
    r = await invoke("jobs", "retry", "--kind", "issue_certificate")
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "2 failed job(s) re-queued."
    async with committed_db.session() as session:
        rows = (await session.execute(select(Job.kind, Job.status, Job.attempts))).all()
    assert sorted(rows) == [(JobKind.import_package, JobStatus.failed, 3),
                            (JobKind.issue_certificate, JobStatus.queued, 0),
                            (JobKind.issue_certificate, JobStatus.queued, 0)]
    r = await invoke("--lang", "vi", "jobs", "retry")
    assert r.output.strip() == "Đã đưa lại 1 việc bị lỗi vào hàng đợi."
