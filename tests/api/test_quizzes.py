"""Quiz attempts over HTTP: shapes, no correctness data before submission, autosave, submit, review."""

import uuid
from datetime import datetime, timedelta

import pytest

from app.models.base import utcnow
from app.models.learning import Enrollment
from app.services.quizzes import attempts
from tests.factories import auth, make_course, make_user, quiz, token_for

QUESTIONS = [
    {"kind": "single", "prompt": "Thủ đô của Việt Nam?", "choices": [("Hà Nội", 100), ("Huế", 0)],
     "feedback": "Hà Nội là thủ đô."},
    {"kind": "multiple", "prompt": "Mật khẩu mạnh gồm?", "choices": [("Chữ hoa", 50), ("Chữ số", 50)]},
    {"kind": "true_false", "prompt": "Nên bật xác thực hai lớp.", "answer": True},
    {"kind": "short_answer", "prompt": "Thành phố bên sông Hàn?", "choices": [("Đà Nẵng", 100)]},
]


async def setup(session, keyring, settings, *, enrolled=True, **options):
    user = await make_user(session)
    rows = await make_course(session, lessons=[quiz("final", QUESTIONS, **options)])
    if enrolled:
        session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
        await session.flush()
    return auth(token_for(keyring, settings, user)), rows


def answers_for(rows, *, right: bool) -> dict:
    answers = []
    for question in rows.questions["final"]:
        choices = rows.choices[question.id]
        if question.kind == "short_answer":
            answers.append({"question_id": str(question.id), "text": "đà nẵng" if right else "Huế"})
        else:
            pick = [c for c in choices if (c.weight > 0) == right][:None if right else 1]
            answers.append({"question_id": str(question.id), "choice_ids": [str(c.id) for c in pick]})
    return {"answers": answers}


def start_url(rows) -> str:
    return f"/api/v1/quizzes/{rows.quizzes['final'].id}/attempts"


# --- start --------------------------------------------------------------------------------------------------


async def test_anonymous_learners_cannot_start(client, session, keyring, settings):
    _, rows = await setup(session, keyring, settings)
    assert (await client.post(start_url(rows))).status_code == 401


async def test_learners_not_enrolled_get_403_and_unknown_quizzes_404(client, session, keyring, settings):
    headers, rows = await setup(session, keyring, settings, enrolled=False)
    assert (await client.post(start_url(rows), headers=headers)).status_code == 403
    assert (await client.post(f"/api/v1/quizzes/{uuid.uuid4()}/attempts", headers=headers)).status_code == 404


async def test_a_started_attempt_has_the_documented_shape_and_no_correctness_data(client, session, keyring,
                                                                                  settings):
    headers, rows = await setup(session, keyring, settings, time_limit_s=600)
    r = await client.post(start_url(rows), headers=headers)
    assert r.status_code == 201
    body = r.json()
    assert {"id", "deadline", "questions"} <= set(body) and body["deadline"]
    for question in body["questions"]:
        assert set(question) == {"id", "kind", "text_format", "prompt", "blank", "points", "choices", "options",
                                 "review"} and question["review"] is None
        assert all(set(choice) == {"id", "text"} for choice in question["choices"])
    kinds = {q["kind"]: q for q in body["questions"]}
    assert len(kinds["true_false"]["choices"]) == 2 and kinds["short_answer"]["choices"] == []
    for leaked in ("weight", "feedback", "correct", "accepted", "Đà Nẵng", "Hà Nội là thủ đô", "Phản hồi"):
        assert leaked not in r.text
    again = await client.get(f"/api/v1/attempts/{body['id']}", headers=headers)
    assert "weight" not in again.text and "feedback" not in again.text


async def test_a_second_start_while_one_is_open_is_409_naming_it(client, session, keyring, settings):
    headers, rows = await setup(session, keyring, settings)
    first = (await client.post(start_url(rows), headers=headers)).json()
    r = await client.post(start_url(rows), headers=headers)
    assert r.status_code == 409 and r.json()["attempt_id"] == first["id"]


# --- answer, submit, review ---------------------------------------------------------------------------------


async def test_autosave_then_submit_then_review(client, session, keyring, settings):
    headers, rows = await setup(session, keyring, settings)
    attempt = (await client.post(start_url(rows), headers=headers)).json()
    base = f"/api/v1/attempts/{attempt['id']}"
    saved = await client.put(f"{base}/answers", headers=headers, json=answers_for(rows, right=True))
    assert saved.status_code == 200 and len(saved.json()["answers"]) == 4 and saved.json()["score"] is None

    submitted = await client.post(f"{base}/submit", headers=headers)
    assert submitted.status_code == 200
    assert (submitted.json()["score"], submitted.json()["passed"]) == (100, True)
    review = {q["kind"]: q["review"] for q in (await client.get(base, headers=headers)).json()["questions"]}
    assert review["short_answer"]["accepted_answers"] == ["Đà Nẵng"]
    assert review["single"]["feedback"] == "Hà Nội là thủ đô." and review["single"]["earned"] == 1

    repeat = await client.post(f"{base}/submit", headers=headers, json=answers_for(rows, right=False))
    assert repeat.json() == submitted.json()
    late_save = await client.put(f"{base}/answers", headers=headers, json=answers_for(rows, right=False))
    assert late_save.status_code == 409


async def test_answers_that_do_not_fit_are_422_per_answer(client, session, keyring, settings):
    headers, rows = await setup(session, keyring, settings)
    attempt = (await client.post(start_url(rows), headers=headers)).json()
    single = rows.questions["final"][0]
    r = await client.put(f"/api/v1/attempts/{attempt['id']}/answers", headers=headers, json={"answers": [
        {"question_id": str(uuid.uuid4()), "choice_ids": []},
        {"question_id": str(single.id), "text": "Hà Nội"},
    ]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["answers.0.question_id", "answers.1.text"]


async def test_submitting_with_wrong_answers_fails_and_lists_attempts(client, session, keyring, settings):
    headers, rows = await setup(session, keyring, settings, max_attempts=3)
    attempt = (await client.post(start_url(rows), headers=headers)).json()
    graded = (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers,
                                json=answers_for(rows, right=False))).json()
    assert (graded["score"], graded["passed"]) == (0, False)
    summary = (await client.get(start_url(rows), headers=headers)).json()
    assert (summary["attempts_left"], summary["best_score"], summary["passed"]) == (2, 0, False)


async def test_another_learners_attempt_is_404(client, session, keyring, settings):
    headers, rows = await setup(session, keyring, settings)
    attempt = (await client.post(start_url(rows), headers=headers)).json()
    stranger = auth(token_for(keyring, settings, await make_user(session)))
    for request in (client.get(f"/api/v1/attempts/{attempt['id']}", headers=stranger),
                    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=stranger)):
        assert (await request).status_code == 404


# --- deadline and grace at their edge -----------------------------------------------------------------------


@pytest.fixture
def quiz_clock(monkeypatch):
    """The server's clock for attempts, set by the test: the edge of the grace is a single instant."""
    clock = {"now": utcnow().replace(microsecond=0)}
    monkeypatch.setattr(attempts, "utcnow", lambda: clock["now"])
    return clock


EDGE = [(timedelta(seconds=90), True), (timedelta(seconds=90, microseconds=1000), False)]  # 60 s + 30 s grace


@pytest.mark.parametrize("after_start, on_time", EDGE, ids=["exactly 90 s", "1 ms later"])
async def test_a_save_at_the_end_of_the_grace_is_kept_and_a_moment_later_refused(client, session, keyring, settings,
                                                                                 quiz_clock, after_start, on_time):
    headers, rows = await setup(session, keyring, settings, time_limit_s=60)
    started = quiz_clock["now"]
    attempt = (await client.post(start_url(rows), headers=headers)).json()
    assert datetime.fromisoformat(attempt["deadline"]) == started + timedelta(seconds=60)
    quiz_clock["now"] = started + after_start
    saved = await client.put(f"/api/v1/attempts/{attempt['id']}/answers", headers=headers,
                             json=answers_for(rows, right=True))
    if on_time:
        assert saved.status_code == 200 and len(saved.json()["answers"]) == 4
    else:
        assert saved.status_code == 409 and saved.headers["content-type"] == "application/problem+json"
    graded = (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers)).json()
    assert graded["score"] == (100 if on_time else 0)


@pytest.mark.parametrize("after_start, on_time", EDGE, ids=["exactly 90 s", "1 ms later"])
async def test_answers_sent_with_a_submission_at_the_end_of_the_grace_count_and_a_moment_later_do_not(
        client, session, keyring, settings, quiz_clock, after_start, on_time):
    headers, rows = await setup(session, keyring, settings, time_limit_s=60)
    started = quiz_clock["now"]
    attempt = (await client.post(start_url(rows), headers=headers)).json()
    quiz_clock["now"] = started + after_start
    submitted = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers,
                                  json=answers_for(rows, right=True))
    assert submitted.status_code == 200
    assert (submitted.json()["score"], submitted.json()["passed"]) == ((100, True) if on_time else (0, False))
