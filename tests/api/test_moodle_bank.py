"""A Moodle XML bank with images, end to end: imported with the package, its questions answered and graded,
its images served through signed URLs to enrolled learners only."""

import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from app.core.storage import build_storage
from app.models.course import Asset
from app.models.quiz import Choice, Question
from tests.factories import auth, make_user, token_for
from tests.factories.packages import import_package, package_zip, sample_manifest

BANK = Path(__file__).parents[1] / "fixtures" / "moodle" / "bank.xml"
GIFT_QUIZ = "quiz: {gift: quizzes/cuoi-khoa.gift, pass_score: 80, max_attempts: 3, time_limit_s: 1200, draw: 4"
XML_QUIZ = "quiz: {moodle_xml: quizzes/ngan-hang.xml, pass_score: 80, max_attempts: 3, time_limit_s: 1200"


async def imported(db, settings, tmp_path, bank: bytes = b""):
    manifest = sample_manifest()
    assert GIFT_QUIZ in manifest
    path = package_zip(tmp_path / "p.zip", manifest=manifest.replace(GIFT_QUIZ, XML_QUIZ),
                       drop=("quizzes/cuoi-khoa.gift",), extra={"quizzes/ngan-hang.xml": bank or BANK.read_bytes()})
    return await import_package(db, build_storage(settings), path, publish=True)


async def learner(client, session, keyring, settings, job=None):
    headers = auth(token_for(keyring, settings, await make_user(session)))
    if job is not None:
        r = await client.post(f"/api/v1/courses/{job.course_id}/enrollments", headers=headers)
        assert r.status_code in (200, 201), r.text
    return headers


async def quiz_id(client, job) -> str:
    course = (await client.get(f"/api/v1/courses/{job.course_id}")).json()
    return next(lesson["quiz"]["quiz_id"] for module in course["modules"] for lesson in module["lessons"]
                if lesson["kind"] == "quiz")


def image_urls(attempt: dict) -> list[str]:
    return [url for q in attempt["questions"] for url in re.findall(r'<img src="([^"]*)"', q["prompt"])]


async def test_the_bank_imports_with_its_images_as_course_assets(db, session, settings, tmp_path):
    job = await imported(db, settings, tmp_path)
    assert job.status == "succeeded", job.errors
    questions = (await session.execute(select(Question).order_by(Question.position))).scalars().all()
    assert [q.kind for q in questions] == ["single", "multiple", "true_false", "short_answer", "numerical",
                                           "numerical", "matching", "description", "essay"]
    images = (await session.execute(select(Asset).where(Asset.content_type == "image/png"))).scalars().all()
    assert len(images) == 2 and all(a.path.startswith("quizzes/ngan-hang.xml.files/") for a in images)
    assert all(a.storage_key.endswith(a.path) and a.version_id == job.version_id for a in images)


async def test_images_are_served_to_enrolled_learners_only(client, db, session, settings, keyring, tmp_path):
    job = await imported(db, settings, tmp_path)
    headers = await learner(client, session, keyring, settings, job)
    qid = await quiz_id(client, job)
    attempt = (await client.post(f"/api/v1/quizzes/{qid}/attempts", headers=headers)).json()
    urls = image_urls(attempt)
    assert len(urls) == 2 and all("sig=" in url and "expires=" in url for url in urls)
    for url in urls:
        path = urlsplit(url).path + "?" + urlsplit(url).query
        r = await client.get(path.replace("&amp;", "&"))
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        assert r.headers["content-type"] == "image/png"
        forged = re.sub(r"sig=[^&]+", "sig=" + "0" * 64, path.replace("&amp;", "&"))
        assert (await client.get(forged)).status_code == 403
        unsigned = urlsplit(url).path
        assert (await client.get(unsigned)).status_code in (401, 403, 422)

    stranger = await learner(client, session, keyring, settings)  # not enrolled: cannot start, cannot peek
    assert (await client.post(f"/api/v1/quizzes/{qid}/attempts", headers=stranger)).status_code == 403
    assert (await client.get(f"/api/v1/attempts/{attempt['id']}", headers=stranger)).status_code == 404

    assert (await client.delete(f"/api/v1/courses/{job.course_id}/enrollments/me",
                                headers=headers)).status_code == 204
    after_leaving = (await client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers)).json()
    assert image_urls(after_leaving) == ["", ""]  # the attempt stays readable, its images no longer signed


async def test_right_answers_to_every_moodle_type_score_100(client, db, session, settings, keyring, tmp_path):
    job = await imported(db, settings, tmp_path)
    headers = await learner(client, session, keyring, settings, job)
    attempt = (await client.post(f"/api/v1/quizzes/{await quiz_id(client, job)}/attempts", headers=headers)).json()
    answers = []
    for question in attempt["questions"]:
        own = (await session.execute(select(Choice).where(Choice.question_id == uuid.UUID(question["id"]))
                                     .order_by(Choice.position))).scalars().all()
        full = [c for c in own if c.weight >= 100]
        qid, kind = question["id"], question["kind"]
        if kind in ("single", "true_false"):
            answers.append({"question_id": qid, "choice_ids": [str(full[0].id)]})
        elif kind == "multiple":
            answers.append({"question_id": qid, "choice_ids": [str(c.id) for c in own if c.weight > 0]})
        elif kind == "short_answer":
            answers.append({"question_id": qid, "text": "vneid"})
        elif kind == "numerical":
            answers.append({"question_id": qid, "text": str(full[0].value).replace(".", ",")})
        elif kind == "matching":
            options = {o["text"]: o["id"] for o in question["options"]}
            right = {str(c.id): c.match_text for c in own}
            answers.append({"question_id": qid, "matches": [
                {"choice_id": c["id"], "option_id": options[right[c["id"]]]} for c in question["choices"]]})
        elif kind == "essay":
            answers.append({"question_id": qid, "text": "Mật khẩu mạnh; không chia sẻ OTP; xác thực hai lớp."})
    r = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers, json={"answers": answers})
    assert r.status_code == 200, r.text
    assert r.json()["score"] == 100 and r.json()["passed"] is True


async def test_an_xml_bomb_fails_the_import_naming_file_and_line(db, session, settings, tmp_path):
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE quiz [\n <!ENTITY a "aaaaaaaaaa">\n'
            b' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n<quiz>&b;</quiz>\n')
    job = await imported(db, settings, tmp_path, bomb)
    assert job.status == "failed" and job.course_id is None
    assert [(e["file"], e["line"], e["message"]) for e in job.errors] == [
        ("quizzes/ngan-hang.xml", 3, "moodle_xml_entities")]


async def test_the_outline_counts_questions_not_descriptions(client, db, settings, tmp_path):
    job = await imported(db, settings, tmp_path)
    course = (await client.get(f"/api/v1/courses/{job.course_id}")).json()
    [summary] = [lesson["quiz"] for module in course["modules"] for lesson in module["lessons"] if lesson["quiz"]]
    assert summary["question_count"] == 8  # nine entries in the bank, one of them a description
