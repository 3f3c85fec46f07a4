"""A SCO's commit in the service layer: the statements it runs (the path every SCO hits every 30 s)."""

import logging

from sqlalchemy import select

from app.core.storage import build_storage
from app.models.course import Lesson
from app.models.scorm import CommitIn, ScormObjective
from app.services.content.packages.importer import import_file
from app.services.learning.enrollment import enroll
from app.services.scorm import commits, content, runtime
from tests.factories import make_user
from tests.factories.scorm_packages import manifest_12, scorm_zip
from tests.statements import statements_run


async def test_a_mid_session_commit_runs_a_handful_of_statements(db, settings, session, tmp_path):
    job = await import_file(db, build_storage(settings), scorm_zip(tmp_path / "g.zip", manifest_12()), publish=True)
    lesson_id = (await session.execute(select(Lesson.id).where(Lesson.version_id == job.version_id,
                                                               Lesson.key == "playing_item"))).scalar_one()
    user = await make_user(session)
    await enroll(session, user, "golf-explained")
    launched = await runtime.launch(session, settings, user, lesson_id)
    token, _ = content.session_token(settings.secret_key, launched.session_id, ttl_s=600)
    values = {"cmi.core.lesson_location": "p2", "cmi.suspend_data": "x" * 2000, "cmi.core.lesson_status":
              "incomplete", "cmi.core.student_id": "echoed", "cmi.interactions": []}
    await commits.commit(session, settings, launched.session_id, token, CommitIn(seq=1, values=values))
    with statements_run(session) as seen:
        result = await commits.commit(session, settings, launched.session_id, token,
                                      CommitIn(seq=2, values={**values, "cmi.core.lesson_location": "p3"}))
    assert result.applied and not result.lesson_completed
    # session and attempt read with their locks, the SCO, then one UPDATE each for session and attempt
    assert len(seen) <= 5, seen
    with statements_run(session) as seen:
        replay = await commits.commit(session, settings, launched.session_id, token, CommitIn(seq=2, values=values))
    assert not replay.applied and len(seen) <= 2


async def launched_session(db, settings, session, tmp_path, full_name="Nguyễn Thị Hoa"):
    job = await import_file(db, build_storage(settings), scorm_zip(tmp_path / "g.zip", manifest_12()), publish=True)
    lesson_id = (await session.execute(select(Lesson.id).where(Lesson.version_id == job.version_id,
                                                               Lesson.key == "playing_item"))).scalar_one()
    user = await make_user(session, full_name=full_name)
    await enroll(session, user, "golf-explained")
    launched = await runtime.launch(session, settings, user, lesson_id)
    token, _ = content.session_token(settings.secret_key, launched.session_id, ttl_s=600)
    return user, launched.session_id, token


async def test_12_suspend_data_above_4096_is_logged_without_the_learner(db, settings, session, tmp_path, caplog):
    user, session_id, token = await launched_session(db, settings, session, tmp_path)
    caplog.set_level(logging.INFO, logger="hocso.scorm")
    await commits.commit(session, settings, session_id, token, CommitIn(seq=1, values={
        "cmi.suspend_data": "x" * 4096}))
    assert not [r for r in caplog.records if "suspend_data" in r.getMessage()]  # at the limit: nothing to say
    await commits.commit(session, settings, session_id, token, CommitIn(seq=2, values={
        "cmi.suspend_data": "y" * 5000}))
    (record,) = [r for r in caplog.records if "suspend_data" in r.getMessage()]
    assert record.levelno == logging.INFO and record.length == 5000 and record.lesson_id
    line = " ".join(str(v) for v in [record.getMessage(), *vars(record).values()])
    for personal in (str(user.id), user.full_name, user.email or "Nguyễn Thị Hoa", "y" * 50):
        assert personal not in line


async def test_objectives_are_stored_as_rows(db, settings, session, tmp_path):
    _, session_id, token = await launched_session(db, settings, session, tmp_path)
    await commits.commit(session, settings, session_id, token, CommitIn(seq=1, values={
        "cmi.objectives.0.id": "obj-rules", "cmi.objectives.0.status": "passed",
        "cmi.objectives.0.score.raw": "90", "cmi.objectives.1.id": "obj-etiquette",
        "cmi.objectives.1.status": "incomplete"}))
    await commits.commit(session, settings, session_id, token, CommitIn(seq=2, values={
        "cmi.objectives.1.status": "failed"}))
    rows = (await session.execute(select(ScormObjective).order_by(ScormObjective.position))).scalars().all()
    assert [(o.position, o.identifier, o.success_status, o.score_raw) for o in rows] == [
        (0, "obj-rules", "passed", 90), (1, "obj-etiquette", "failed", None)]
