"""A learner's way through a SCORM course over the API, shared by the SCORM API tests: the golf 1.2 course
imported, a learner enrolled, a launch with its session token, commits."""

import re

import pytest
from sqlalchemy import select

from app.core.storage import build_storage
from app.models.course import Lesson
from app.services.content.packages.importer import import_file
from tests.factories import auth, make_user, token_for
from tests.factories.scorm_packages import manifest_12, scorm_zip


async def import_course(db, settings, session, tmp_path, manifest, name):
    job = await import_file(db, build_storage(settings), scorm_zip(tmp_path / f"{name}.zip", manifest),
                            publish=True)
    assert job.status == "succeeded", job.errors
    lessons = (await session.execute(select(Lesson).where(Lesson.version_id == job.version_id))).scalars()
    return job.course_id, {lesson.key: lesson.id for lesson in lessons}


@pytest.fixture
async def golf12(db, settings, session, tmp_path):
    return await import_course(db, settings, session, tmp_path, manifest_12(), "golf12")


@pytest.fixture
async def learner(session, keyring, settings):
    user = await make_user(session, full_name="Trần Văn Bình")
    return user, auth(token_for(keyring, settings, user))


async def enrolled(client, learner, course_id):
    r = await client.post(f"/api/v1/courses/{course_id}/enrollments", headers=learner[1])
    assert r.status_code in (200, 201), r.text


async def launch(client, learner, lesson_id, **body):
    r = await client.post(f"/api/v1/lessons/{lesson_id}/launch", headers=learner[1], json=body or None)
    assert r.status_code == 201, r.text
    answer = r.json()
    token = re.search(r"token=([^&]+)", answer["launch_url"]).group(1)
    return answer, {"X-Scorm-Token": token}


async def commit(client, answer, token, seq, values, terminate=False):
    return await client.post(f"/api/v1/scorm/sessions/{answer['session_id']}/commits", headers=token,
                             json={"seq": seq, "values": values, "terminate": terminate})
