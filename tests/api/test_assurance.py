"""Assurance end to end: an e-ID learner's completion carries `eid` and the figures show it under that level; a
partner's national-ID report and a later e-ID sign-in are one learner, counted once; the programme chooses
which levels count toward its target; the counters' verify and rebuild cover the level."""

# ruff: noqa: F811 - the `provider` and `settings` fixtures are imported from the sign-in tests, then used as arguments
import uuid

from sqlalchemy import select, update

from app.core.storage import build_storage
from app.models.completion import Completion, CompletionYearCounter
from app.models.identity import Role, User
from app.services.counters import buckets as counters

# The mock provider and the settings that name it, shared with the sign-in tests.
from tests.api.test_oidc import exchange, handoff_code, provider, settings, sign_in  # noqa: F401
from tests.api.test_quiz_kinds import right_answer, stored
from tests.factories import auth, document, make_course, make_user, service_token, token_for
from tests.factories.packages import SAMPLE_ZIP, import_package

NATIONAL_ID = "001099012345"  # the mock provider's default person


async def e_id_token(client) -> str:
    answer, _, verifier = await sign_in(client)
    tokens = await exchange(client, handoff_code(answer), verifier)
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["access_token"]


async def complete_sample_course(client, session, headers) -> dict:
    """Enroll in a one-document course, read the document, complete: the completion as the API shows it."""
    rows = await make_course(session, slug=f"ky-nang-so-{uuid.uuid4().hex[:6]}", lessons=[document("so-tay")])
    assert (await client.post(f"/api/v1/courses/{rows.course.slug}/enrollments", headers=headers)).status_code == 201
    viewed = await client.post(f"/api/v1/lessons/{rows.lessons['so-tay'].id}/progress", headers=headers,
                               json={"event_id": "doc", "viewed": True})
    assert viewed.status_code == 200, viewed.text
    completed = await client.post(f"/api/v1/courses/{rows.course.slug}/completion", headers=headers)
    assert completed.status_code in (200, 201), completed.text
    return completed.json()


def stats_reader(keyring, settings) -> dict[str, str]:
    return auth(service_token(keyring, settings, scopes=["stats:read"]))


async def test_an_e_id_citizen_completes_the_real_sample_package_and_it_counts_under_eid(client, session, db,
                                                                                       settings, clock):
    job = await import_package(db, build_storage(settings), SAMPLE_ZIP, publish=True)
    assert job.status == "succeeded", job.errors
    headers = auth(await e_id_token(client))
    course = "/api/v1/courses/ky-nang-so-co-ban"
    assert (await client.post(f"{course}/enrollments", headers=headers)).status_code == 201
    lessons = {lsn["key"]: lsn for m in (await client.get(course)).json()["modules"] for lsn in m["lessons"]}
    video = f"/api/v1/lessons/{lessons['gioi-thieu']['id']}/progress"
    assert (await client.post(video, headers=headers, json={"event_id": "s", "intervals": []})).status_code == 200
    duration = lessons["gioi-thieu"]["duration_s"]
    clock.advance(duration)  # watched in real time, within the 2x budget
    watched = await client.post(video, headers=headers, json={"event_id": "w", "intervals": [[0, duration]]})
    assert watched.status_code == 200, watched.text
    document_progress = f"/api/v1/lessons/{lessons['so-tay']['id']}/progress"
    viewed = await client.post(document_progress, headers=headers, json={"event_id": "d", "viewed": True})
    assert viewed.status_code == 200, viewed.text
    quiz_id = lessons["kiem-tra-cuoi-khoa"]["quiz"]["quiz_id"]
    attempt = (await client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)).json()
    _, choices = await stored(session, uuid.UUID(quiz_id))
    answers = [right_answer(q, choices[q["id"]]) for q in attempt["questions"]]
    graded = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers, json={"answers": answers})
    assert graded.json()["passed"] is True, graded.text

    completed = await client.post(f"{course}/completion", headers=headers)
    assert completed.status_code in (200, 201), completed.text
    assert completed.json()["assurance"] == "eid"
    year = int(completed.json()["completed_at"][:4])
    citizens = (await client.get("/api/v1/stats/national", params={"year": year})).json()["audiences"]["citizen"]
    assert citizens["assurance"]["eid"] == {"completions": 1, "learners": 1} and citizens["completions"] == 1


async def test_an_e_id_learner_completes_and_the_figures_show_it_under_eid(client, session, settings, keyring):
    headers = auth(await e_id_token(client))
    completion = await complete_sample_course(client, session, headers)
    assert completion["assurance"] == "eid"
    year = int(completion["completed_at"][:4])

    national = (await client.get("/api/v1/stats/national", params={"year": year})).json()
    citizens = national["audiences"]["citizen"]
    assert citizens["assurance"]["eid"] == {"completions": 1, "learners": 1}
    assert citizens["completions"] == citizens["counted_completions"] == 1

    summary = (await client.get("/api/v1/stats/summary", params={"year": year},
                                headers=stats_reader(keyring, settings))).json()
    assert summary["audiences"]["citizen"]["assurance"]["eid"] == {"completions": 1, "learners": 1}
    only_phone = (await client.get("/api/v1/stats/summary", params={"year": year, "assurance": "phone"},
                                   headers=stats_reader(keyring, settings))).json()
    assert only_phone["assurance"] == ["phone"] and only_phone["audiences"]["citizen"]["completions"] == 0
    assert (await counters.verify(session)).ok


async def test_a_partner_completion_and_a_later_e_id_sign_in_are_one_learner_counted_once(client, session,
                                                                                         settings, keyring):
    partner_course = (await make_course(session, lessons=[])).course
    reported = await client.post(
        "/api/v1/completions", headers=auth(service_token(keyring, settings, scopes=["completions:write"])),
        json={"national_id": NATIONAL_ID, "full_name": "Nguyễn Văn Dân", "audience": "citizen",
              "province_code": "01", "course": partner_course.slug, "external_ref": "lop-01/7"})
    assert reported.status_code == 201, reported.text
    learner_id = reported.json()["learner_id"]
    assert (await session.get(User, uuid.UUID(learner_id))).assurance == "partner"

    headers = auth(await e_id_token(client))
    me = (await client.get("/api/v1/users/me", headers=headers)).json()
    assert (me["id"], me["assurance"]) == (learner_id, "eid")  # the same learner, now proven by e-ID
    online = await complete_sample_course(client, session, headers)
    assert online["assurance"] == "eid"

    year = int(reported.json()["completion"]["completed_at"][:4])
    assert year == int(online["completed_at"][:4])
    citizens = (await client.get("/api/v1/stats/national", params={"year": year})).json()["audiences"]["citizen"]
    assert (citizens["completions"], citizens["learners"]) == (2, 1)
    assert citizens["assurance"]["partner"]["completions"] == 1 and citizens["assurance"]["eid"]["completions"] == 1
    assert (await counters.verify(session)).ok


async def test_the_programme_chooses_which_levels_count_toward_the_target(client, session, settings, keyring):
    eid_completion = await complete_sample_course(client, session, auth(await e_id_token(client)))
    year = int(eid_completion["completed_at"][:4])
    plain = await make_user(session)
    await complete_sample_course(client, session, auth(token_for(keyring, settings, plain)))
    admin = await make_user(session, role=Role.ministry_admin)
    url = f"/api/v1/admin/programmes/{year}"
    set_up = await client.put(url, headers=auth(token_for(keyring, settings, admin)), json={
        "official_target": 10_000, "citizen_target": 100, "counted_assurance": ["eid", "partner"]})
    assert set_up.status_code == 200 and set_up.json()["counted_assurance"] == ["partner", "eid"]

    national = (await client.get("/api/v1/stats/national", params={"year": year})).json()
    citizens = national["audiences"]["citizen"]
    assert national["counted_assurance"] == ["partner", "eid"]
    assert (citizens["completions"], citizens["counted_completions"], citizens["percent_of_target"]) == (2, 1, 1.0)
    assert citizens["assurance"]["none"]["completions"] == 1  # still shown, not counted
    bad = await client.put(url, headers=auth(token_for(keyring, settings, admin)), json={
        "official_target": 1, "citizen_target": 1, "counted_assurance": ["sure"]})
    assert bad.status_code == 422


async def test_verify_finds_a_wrong_level_bucket_and_rebuild_repairs_it(client, session, settings):
    completion = await complete_sample_course(client, session, auth(await e_id_token(client)))
    year = int(completion["completed_at"][:4])
    await session.execute(update(CompletionYearCounter).where(CompletionYearCounter.year == year,
                                                              CompletionYearCounter.assurance == "eid")
                          .values(assurance="phone"))
    report = await counters.verify(session)
    assert {(d.table, d.key.get("assurance"), d.expected, d.actual) for d in report.differences} == {
        ("completion_year_counter", "eid", 1, 0), ("completion_year_counter", "phone", 0, 1)}
    await counters.rebuild(session)
    assert (await counters.verify(session)).ok


async def test_later_proofs_never_move_a_recorded_completion(client, session, settings, keyring):
    user = await make_user(session, phone="+84912000333")
    completion = await complete_sample_course(client, session, auth(token_for(keyring, settings, user)))
    assert completion["assurance"] == "none"
    user.assurance = "eid"
    await session.flush()
    recorded = (await session.execute(select(Completion.assurance).where(
        Completion.id == uuid.UUID(completion["id"])))).scalar_one()
    assert recorded == "none"


async def test_changing_a_verified_phone_drops_the_phone_level(client, session, settings, keyring):
    user = await make_user(session, phone="+84912000444")
    user.assurance = "phone"
    await session.flush()
    changed = await client.patch("/api/v1/users/me", headers=auth(token_for(keyring, settings, user)),
                                 json={"phone": "0912 000 445"})
    assert changed.status_code == 200 and changed.json()["assurance"] == "none"
