"""`hocso counters verify` and `hocso counters rebuild`, run as an operator would, against committed data."""

from datetime import UTC, datetime

import anyio.to_thread
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from app.cli import app as hocso
from app.models.base import utcnow
from app.models.completion import CompletionCounter, CompletionYearCounter, LearnerCounter, LearnerYear
from app.models.learning import Enrollment, LessonProgress
from app.services.completion.completions import complete_course, record_completion
from app.services.counters import buckets as counters
from tests.factories import document, make_course, make_user

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar


@pytest.fixture
def cli_env(monkeypatch, operator_env, committed_db):
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # English result lines (Vietnamese: --lang vi or another LANG)
    return committed_db


async def invoke(*args: str) -> Result:
    # asyncio.run inside the command needs a thread without a running event loop.
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, list(args)))


async def completions_recorded(db) -> None:
    """Three completions: two learners, two courses, two provinces, across a local year boundary."""
    async with db.session() as session:
        first, second = await make_course(session), await make_course(session)
        hanoi = await make_user(session, province_code="01")
        hue = await make_user(session, province_code="46")
        new_year_eve = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 in Hà Nội
        await record_completion(session, user=hanoi, course=first.course, course_version=1,
                                completed_at=new_year_eve)
        await record_completion(session, user=hanoi, course=second.course, course_version=1,
                                completed_at=datetime(2025, 12, 31, 17, 30, tzinfo=UTC))  # already 2026 there
        await record_completion(session, user=hue, course=first.course, course_version=1)


async def test_verify_passes_when_counters_agree(cli_env):
    await completions_recorded(cli_env)
    r = await invoke("counters", "verify")
    assert r.exit_code == 0, r.output
    assert "agree" in r.output
    r = await invoke("--lang", "vi", "counters", "verify")
    assert r.output.strip() == "Bộ đếm khớp với các lượt hoàn thành."


async def test_verify_lists_every_difference_and_exits_non_zero(cli_env):
    await completions_recorded(cli_env)
    async with cli_env.session() as session:
        await session.execute(update(CompletionCounter).where(CompletionCounter.province_code == "46")
                              .values(count=CompletionCounter.count + 2))
        await session.execute(update(LearnerCounter).where(LearnerCounter.province_code == "01",
                                                           LearnerCounter.year == 2026).values(count=5))
        await session.execute(LearnerYear.__table__.delete().where(LearnerYear.province_code == "46"))
    r = await invoke("counters", "verify")
    assert r.exit_code == 1
    lines = [line for line in r.stdout.splitlines() if line]
    assert len(lines) == 3, r.output
    assert any(line.startswith("completion_counter") and "province_code=46" in line and
               "expected 1, stored 3" in line for line in lines)
    assert any(line.startswith("learner_counter") and "year=2026" in line and "province_code=01" in line
               and "expected 1, stored 5" in line for line in lines)
    assert any(line.startswith("learner_year") and "expected 1, stored 0" in line for line in lines)


async def test_verify_reports_a_tampered_year_bucket_and_rebuild_repairs_it(cli_env):
    await completions_recorded(cli_env)
    async with cli_env.session() as session:
        await session.execute(update(CompletionYearCounter).where(CompletionYearCounter.year == 2025)
                              .values(count=40))
        await session.execute(CompletionYearCounter.__table__.delete().where(
            CompletionYearCounter.province_code == "46"))
    this_year = counters.current_year()  # Huế's completion is dated now
    r = await invoke("counters", "verify")
    assert r.exit_code == 1
    lines = [line for line in r.stdout.splitlines() if line]
    assert sorted(lines) == [
        "completion_year_counter [year=2025, audience=citizen, province_code=01, assurance=none]: expected 1, "
        "stored 40",
        f"completion_year_counter [year={this_year}, audience=citizen, province_code=46, assurance=none]: "
        "expected 1, stored 0",
    ], r.output

    r = await invoke("counters", "rebuild")
    assert r.exit_code == 0, r.output
    assert "completion_year_counter 3 rows" in r.output
    assert (await invoke("counters", "verify")).exit_code == 0
    async with cli_env.session() as session:
        rows = (await session.execute(select(CompletionYearCounter.year, CompletionYearCounter.province_code,
                                             CompletionYearCounter.count))).all()
        assert sorted(tuple(r) for r in rows) == sorted([(2025, "01", 1), (2026, "01", 1), (this_year, "46", 1)])


async def test_rebuild_repairs_the_counters(cli_env):
    await completions_recorded(cli_env)
    async with cli_env.session() as session:
        before = sorted(tuple(r) for r in (await session.execute(
            select(CompletionCounter.day, CompletionCounter.province_code, CompletionCounter.count))).all())
        await session.execute(update(CompletionCounter).values(count=99))
        await session.execute(LearnerCounter.__table__.delete())
    assert (await invoke("counters", "verify")).exit_code == 1
    r = await invoke("counters", "rebuild")
    assert r.exit_code == 0, r.output
    assert "completion_counter 3 rows" in r.output and "learner_year 3 rows" in r.output
    assert (await invoke("counters", "verify")).exit_code == 0
    async with cli_env.session() as session:
        after = sorted(tuple(r) for r in (await session.execute(
            select(CompletionCounter.day, CompletionCounter.province_code, CompletionCounter.count))).all())
        assert after == before
        assert (await counters.verify(session)).ok


async def test_verify_agrees_after_completions_through_the_endpoint_path(cli_env):
    """complete_course writes the completion and every bucket in one statement on PostgreSQL: the recount must
    find exactly what it wrote, a learner with two courses in a year counted once."""
    async with cli_env.session() as session:
        courses = [await make_course(session, lessons=[document("a")]) for _ in range(2)]
        learners = [await make_user(session, province_code=code) for code in ("01", "46")]
        for user in learners:
            for rows in courses:
                session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
                session.add(LessonProgress(user_id=user.id, course_id=rows.course.id, lesson_key="a",
                                           viewed_at=utcnow(), completed_at=utcnow()))
        await session.flush()
        for user in learners:
            for rows in courses:
                assert (await complete_course(session, user.id, rows.course.slug))[2]
    r = await invoke("counters", "verify")
    assert r.exit_code == 0, r.output
    async with cli_env.session() as session:
        learners_counted = (await session.execute(select(LearnerCounter.province_code, LearnerCounter.count))).all()
        completions_counted = (await session.execute(
            select(CompletionYearCounter.province_code, CompletionYearCounter.count))).all()
    assert sorted(tuple(r) for r in learners_counted) == [("01", 1), ("46", 1)]
    assert sorted(tuple(r) for r in completions_counted) == [("01", 2), ("46", 2)]
