"""SCORM sessions over the API: one live session per learner and lesson; a superseded or terminated session
takes no more commits (409, "launch again") while its replays are still answered."""

from tests.api import scorm_flow
from tests.api.scorm_flow import commit, enrolled, launch

golf12, learner = scorm_flow.golf12, scorm_flow.learner  # fixtures


async def test_an_older_open_session_cannot_overwrite_a_newer_launch(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    old, old_token = await launch(client, learner, lessons["playing_item"])  # a tab on the office computer
    assert (await commit(client, old, old_token, 1, {"cmi.core.lesson_location": "p1"})).status_code == 200
    new, new_token = await launch(client, learner, lessons["playing_item"])  # the same learner on a phone
    assert (await commit(client, new, new_token, 1, {"cmi.core.lesson_location": "p7"})).json()["applied"]
    r = await commit(client, old, old_token, 2, {"cmi.core.lesson_location": "p1"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/scorm-session-superseded" and "mở lại bài học" in r.json()["detail"]
    state = await client.get(f"/api/v1/scorm/sessions/{new['session_id']}/state", headers=new_token)
    assert state.json()["location"] == "p7"
    stale = await client.get(f"/api/v1/scorm/sessions/{old['session_id']}/state", headers=old_token)
    assert stale.status_code == 409


async def test_a_terminated_session_refuses_new_commits_and_answers_its_replay(client, golf12, learner):
    course_id, lessons = golf12
    await enrolled(client, learner, course_id)
    answer, token = await launch(client, learner, lessons["playing_item"])
    final = {"cmi.core.lesson_location": "p2", "cmi.core.exit": "suspend"}
    assert (await commit(client, answer, token, 1, final, terminate=True)).json()["applied"]
    replay = await commit(client, answer, token, 1, final, terminate=True)
    assert replay.status_code == 200 and not replay.json()["applied"]
    r = await commit(client, answer, token, 2, {"cmi.core.lesson_location": "p9"})  # the page reopened
    assert r.status_code == 409 and r.json()["type"] == "/problems/scorm-session-terminated"
    english = await client.post(f"/api/v1/scorm/sessions/{answer['session_id']}/commits",
                                headers={**token, "Accept-Language": "en"}, json={"seq": 3, "values": {}})
    assert "launch the lesson again" in english.json()["detail"]
    r = await client.get(f"/api/v1/scorm/sessions/{answer['session_id']}/state", headers=token)
    assert r.status_code == 409
    again, again_token = await launch(client, learner, lessons["playing_item"])
    assert (await client.get(f"/api/v1/scorm/sessions/{again['session_id']}/state",
                             headers=again_token)).json()["location"] == "p2"
