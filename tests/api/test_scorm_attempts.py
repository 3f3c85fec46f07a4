"""SCORM attempts over the API: how a SCO's exit ends its attempt (2004: anything but suspend; 1.2: only a
time-out the package asks for), what the next launch starts from, the attempt limit and review of an ended
attempt, and results counted over several attempts (learner, completion status, admin report in JSON and CSV)."""

import csv
import io

import pytest

from app.models.identity import Role
from tests.api import scorm_flow
from tests.api.scorm_flow import commit, enrolled, import_course, launch
from tests.factories import auth, make_user, token_for
from tests.factories.scorm_packages import manifest_12, manifest_2004

golf12, learner = scorm_flow.golf12, scorm_flow.learner  # fixtures


@pytest.fixture
async def golf2004(db, settings, session, tmp_path):
    return await import_course(db, settings, session, tmp_path, manifest_2004(passing=None), "golf2004")


async def state_of(client, answer, token):
    r = await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state", headers=token)
    assert r.status_code == 200, r.text
    return r.json()


async def report(client, session, keyring, settings, course_id, **params):
    admin = await make_user(session, role=Role.content_admin)
    return await client.get(f"/api/v1/admin/courses/{course_id}/scorm-report", params=params,
                            headers=auth(token_for(keyring, settings, admin)))


@pytest.mark.parametrize("exit_value", ["normal", "", "logout", "time-out"])
async def test_a_2004_sco_that_terminates_without_suspend_ends_its_attempt(client, golf2004, learner, exit_value):
    course_id, lessons = golf2004
    await enrolled(client, learner, course_id)
    first, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, first, token, 1, {"cmi.location": "p9", "cmi.suspend_data": "bookmark",
                                               "cmi.completion_status": "completed", "cmi.exit": exit_value,
                                               "cmi.session_time": "PT2S"}, terminate=True)
    assert r.json()["lesson_completed"] and r.json()["attempt_ended"]
    again, token = await launch(client, learner, lessons["playing_item"])
    assert (again["attempt"], again["mode"]) == (2, "normal")
    state = await state_of(client, again, token)
    assert (state["entry"], state["location"], state["suspend_data"], state["credit"]) == (
        "ab-initio", "", "", "credit")
    assert "cmi.completion_status" not in state["cmi"] and state["cmi"]["cmi.total_time"] == "PT0H0M0S"
    status = (await client.get(f"/api/v1/courses/{course_id}/completion-status", headers=learner[1])).json()
    (playing,) = [r for r in status["requirements"] if r["lesson_key"] == "playing_item"]
    assert playing["met"] and (playing["scorm"]["attempt"], playing["scorm"]["completion_status"]) == (
        1, "completed")  # the lesson stays met, and the attempt that met it is the one shown


async def test_a_2004_sco_that_suspends_resumes_the_same_attempt(client, golf2004, learner):
    course_id, lessons = golf2004
    await enrolled(client, learner, course_id)
    first, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, first, token, 1, {"cmi.location": "p4", "cmi.suspend_data": "s=4",
                                               "cmi.exit": "suspend"}, terminate=True)
    assert not r.json()["attempt_ended"]
    again, token = await launch(client, learner, lessons["playing_item"])
    assert again["attempt"] == 1
    state = await state_of(client, again, token)
    assert (state["entry"], state["location"], state["suspend_data"]) == ("resume", "p4", "s=4")


async def test_a_2004_session_left_without_terminate_keeps_its_attempt(client, golf2004, learner):
    course_id, lessons = golf2004
    await enrolled(client, learner, course_id)
    first, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, first, token, 1, {"cmi.location": "p2", "cmi.exit": "normal"})  # tab closed
    assert not r.json()["attempt_ended"]
    again, token = await launch(client, learner, lessons["playing_item"])
    assert again["attempt"] == 1 and (await state_of(client, again, token))["location"] == "p2"


async def test_ended_attempts_count_against_the_limit_and_the_last_is_reviewed_unchanged(
        client, db, settings, session, tmp_path, learner):
    manifest = manifest_2004(passing=None, limits='attemptLimit="2"')
    course_id, lessons = await import_course(db, settings, session, tmp_path, manifest, "limit2")
    await enrolled(client, learner, course_id)
    lesson = lessons["playing_item"]
    for number, status in ((1, "incomplete"), (2, "completed")):
        answer, token = await launch(client, learner, lesson)
        assert answer["attempt"] == number
        r = await commit(client, answer, token, 1, {"cmi.completion_status": status, "cmi.score.raw": "70",
                                                    "cmi.exit": "normal"}, terminate=True)
        assert r.json()["attempt_ended"]
    r = await client.post(f"/api/v1/lessons/{lesson}/launch", headers=learner[1], json={"new_attempt": True})
    assert r.status_code == 409 and r.json()["type"] == "/problems/scorm-attempt-limit"
    review, token = await launch(client, learner, lesson)
    assert (review["attempt"], review["mode"]) == (2, "review")
    state = await state_of(client, review, token)
    assert (state["mode"], state["credit"], state["entry"]) == ("review", "no-credit", "")
    assert (state["cmi"]["cmi.mode"], state["cmi"]["cmi.completion_status"]) == ("review", "completed")
    r = await commit(client, review, token, 1, {"cmi.completion_status": "incomplete", "cmi.score.raw": "10",
                                                "cmi.session_time": "PT3S"}, terminate=True)
    assert r.status_code == 200 and not r.json()["applied"]
    mine = (await client.get(f"/api/v1/lessons/{lesson}/scorm", headers=learner[1])).json()
    assert (mine["attempts"], mine["attempt"], mine["completion_status"], mine["score_raw"]) == (
        2, 2, "completed", 70)


async def test_a_2004_time_limit_with_an_exit_action_ends_even_a_suspended_attempt(
        client, db, settings, session, tmp_path, learner):
    manifest = manifest_2004(passing=None, limits='attemptAbsoluteDurationLimit="PT1S"',
                             item_extra="<adlcp:timeLimitAction>exit,message</adlcp:timeLimitAction>")
    course_id, lessons = await import_course(db, settings, session, tmp_path, manifest, "timed")
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, answer, token, 1, {"cmi.exit": "suspend", "cmi.location": "p3",
                                                "cmi.session_time": "PT2S"}, terminate=True)
    assert r.json()["attempt_ended"]
    assert (await launch(client, learner, lessons["playing_item"]))[0]["attempt"] == 2


@pytest.mark.parametrize("exit_value", ["", "logout", "time-out"])
async def test_a_12_exit_keeps_the_attempt_as_moodle_does(client, golf12, learner, exit_value):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    first, token = await launch(client, learner, lessons["etiquette_item"])
    r = await commit(client, first, token, 1, {"cmi.core.lesson_location": "p5", "cmi.core.exit": exit_value,
                                               "cmi.core.lesson_status": "completed"}, terminate=True)
    assert r.json()["lesson_completed"] and not r.json()["attempt_ended"]
    again, token = await launch(client, learner, lessons["etiquette_item"])
    state = await state_of(client, again, token)
    assert (again["attempt"], state["entry"], state["location"]) == (1, "", "p5")
    assert (await launch(client, learner, lessons["etiquette_item"], new_attempt=True))[0]["attempt"] == 2


async def test_a_12_time_out_ends_the_attempt_when_the_package_says_exit(client, db, settings, session, tmp_path,
                                                                         learner):
    manifest = manifest_12().replace("continue,no message", "exit,message", 1)  # the playing_item SCO
    course_id, lessons = await import_course(db, settings, session, tmp_path, manifest, "timeout12")
    await enrolled(client, learner, course_id)
    first, token = await launch(client, learner, lessons["playing_item"])
    r = await commit(client, first, token, 1, {"cmi.core.lesson_location": "p5", "cmi.core.exit": "time-out",
                                               "cmi.core.lesson_status": "incomplete"}, terminate=True)
    assert r.json()["attempt_ended"] and not r.json()["lesson_completed"]
    again, token = await launch(client, learner, lessons["playing_item"])
    state = await state_of(client, again, token)
    assert (again["attempt"], state["entry"], state["location"]) == (2, "ab-initio", "")


async def test_the_report_counts_the_best_met_attempt_and_sums_time_over_all(client, golf12, learner, session,
                                                                            keyring, settings):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    first, token = await launch(client, learner, lessons["playing_item"])
    await commit(client, first, token, 1, {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "85",
                                           "cmi.core.session_time": "00:00:02"}, terminate=True)
    second, token = await launch(client, learner, lessons["playing_item"], new_attempt=True)
    assert second["attempt"] == 2
    await commit(client, second, token, 1, {"cmi.core.lesson_status": "incomplete", "cmi.core.score.raw": "40",
                                            "cmi.core.session_time": "00:00:03"})
    (row,) = (await report(client, session, keyring, settings, course_id)).json()["rows"]
    assert (row["attempts"], row["attempt"], row["counted"], row["lesson_status"], row["score_raw"]) == (
        2, 1, "best_met", "passed", 85)
    assert row["total_time_s"] == 5 and row["completed_at"]
    mine = (await client.get(f"/api/v1/lessons/{lessons['playing_item']}/scorm", headers=learner[1])).json()
    assert (mine["attempts"], mine["attempt"], mine["score_raw"], mine["total_time_s"]) == (2, 1, 85, 5)
    r = await report(client, session, keyring, settings, course_id, format="csv")
    header, line = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    cells = dict(zip(header, line, strict=True))
    assert (cells["Số lần học"], cells["Lần học được tính"], cells["Điểm"]) == ("2", "1", "85.0")
    assert cells["Tổng thời gian mọi lần học (giây)"] == "5.0" and "đạt" in cells["Tính theo"]


async def test_without_a_met_attempt_the_latest_counts(client, golf2004, learner, session, keyring, settings):
    course_id, lessons = golf2004
    await enrolled(client, learner, course_id)
    for n, measure in enumerate(("0.9", "0.2")):
        answer, token = await launch(client, learner, lessons["etiquette_item"])
        assert answer["attempt"] == n + 1
        await commit(client, answer, token, 1, {"cmi.completion_status": "incomplete", "cmi.score.raw": measure,
                                                "cmi.session_time": "PT1.5S"}, terminate=True)
    (row,) = (await report(client, session, keyring, settings, course_id)).json()["rows"]
    assert (row["attempts"], row["attempt"], row["counted"], row["score_raw"], row["total_time_s"]) == (
        2, 2, "latest", 0.2, 3)
