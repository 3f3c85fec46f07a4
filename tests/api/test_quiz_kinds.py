"""Every question kind over HTTP, with Moodle's own GIFT examples as the bank: no correctness data before
submission (per kind), an honest learner's right answers score 100, and wrong and partial answers score what
Moodle gives."""

import json
import re
from pathlib import Path

import pytest

from app.models.learning import Enrollment
from app.models.quiz import Choice, Question, QuestionKind
from app.services.content.packages.gift import parse_gift
from app.services.content.packages.versions import question_rows
from tests.factories import auth, make_course, make_user, quiz, token_for

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "moodle" / "examples.gift"
EXTRA = """::Mô tả::Phần 2 nói về an toàn thông tin.

::Tự luận::[html]<p>Hãy nêu <b>ba</b> cách bảo vệ tài khoản.</p>{####Gợi ý: mật khẩu, OTP.}

::Ký tự đại diện::Thành phố bên sông Hàn? {=Đà Nẵng =%50%Đà* =*#Chưa đúng.}

::Ghép có nhiễu::Ghép dịch vụ với cơ quan. {=Căn cước -> Bộ Công an =Thuế -> Bộ Tài chính =-> Bộ Y tế}
"""


async def bank_setup(session, keyring, settings, text: bytes, *, enrolled=True, shuffle=True):
    """A published course whose quiz holds every question of `text` (GIFT), written as the importer does."""
    questions, errors = parse_gift(text, "bank.gift")
    assert errors == []
    user = await make_user(session)
    rows = await make_course(session, lessons=[quiz("final", [], shuffle=shuffle, pass_score=80)])
    written = question_rows(rows.quizzes["final"].id, questions)
    for table in (Question, Choice):  # parents first: the models declare no relationships
        session.add_all([row for row in written if isinstance(row, table)])
        await session.flush()
    if enrolled:
        session.add(Enrollment(user_id=user.id, course_id=rows.course.id, version_id=rows.version.id))
    await session.flush()
    return auth(token_for(keyring, settings, user)), rows


def bank() -> bytes:
    return EXAMPLES.read_bytes() + b"\n\n" + EXTRA.encode()


async def stored(session, quiz_id):
    questions = {str(q.id): q for q in (await session.execute(
        Question.__table__.select().where(Question.quiz_id == quiz_id))).all()}
    choices: dict[str, list] = {qid: [] for qid in questions}
    for row in (await session.execute(Choice.__table__.select().where(
            Choice.question_id.in_([q.id for q in questions.values()])).order_by(Choice.position))).all():
        choices[str(row.question_id)].append(row)
    return questions, choices


def right_answer(question: dict, own: list) -> dict | None:
    """What an honest learner who knows the subject answers, using only what the attempt shows."""
    qid, kind = question["id"], question["kind"]
    full = [c for c in own if c.weight >= 100]
    if kind in ("single", "true_false"):
        return {"question_id": qid, "choice_ids": [str(full[0].id)]}
    if kind == "multiple":
        return {"question_id": qid, "choice_ids": [str(c.id) for c in own if c.weight > 0]}
    if kind == "short_answer":
        return {"question_id": qid, "text": full[0].text.replace("*", "")}
    if kind == "numerical":  # typed the Vietnamese way, with a decimal comma
        return {"question_id": qid, "text": str(full[0].value).replace(".", ",")}
    if kind == "matching":
        by_text = {o["text"]: o["id"] for o in question["options"]}
        pair = {str(c.id): c.match_text for c in own}
        return {"question_id": qid, "matches": [{"choice_id": c["id"], "option_id": by_text[pair[c["id"]]]}
                                                for c in question["choices"]]}
    if kind == "essay":
        return {"question_id": qid, "text": "Mật khẩu mạnh, không chia sẻ OTP, bật xác thực hai lớp."}
    return None  # description


async def start(client, headers, rows) -> dict:
    r = await client.post(f"/api/v1/quizzes/{rows.quizzes['final'].id}/attempts", headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_right_answers_to_every_kind_score_100(client, session, keyring, settings):
    headers, rows = await bank_setup(session, keyring, settings, bank())
    attempt = await start(client, headers, rows)
    _, choices = await stored(session, rows.quizzes["final"].id)
    kinds = {q["kind"] for q in attempt["questions"]}
    assert kinds == {k.value for k in QuestionKind}
    answers = [a for q in attempt["questions"] if (a := right_answer(q, choices[q["id"]]))]
    r = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers, json={"answers": answers})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["score"] == 100 and body["passed"] is True
    earned = {q["kind"]: set() for q in body["questions"]}
    for q in body["questions"]:
        earned[q["kind"]].add(q["review"]["earned"])
    assert earned.pop("essay") == {None} and earned.pop("description") == {None}
    assert all(values == {1.0} for values in earned.values()), earned


async def test_no_correctness_data_before_submission_for_any_kind(client, session, keyring, settings):
    headers, rows = await bank_setup(session, keyring, settings, bank())
    attempt = await start(client, headers, rows)
    questions, choices = await stored(session, rows.quizzes["final"].id)
    again = (await client.get(f"/api/v1/attempts/{attempt['id']}", headers=headers)).json()
    for shown in (attempt, again):
        text = json.dumps(shown, ensure_ascii=False)
        for key in ("weight", "feedback", "accepted_answers", "correct_choice_ids", "correct_matches", "value",
                    "tolerance", "earned", "match_text"):
            assert f'"{key}":' not in text, key
        for leaked in ("Very good!", "Yes! That's right!", "Chưa đúng", "Gợi ý"):
            assert leaked not in text, leaked
        for number in ("3.1415", "1822"):  # as a number of its own: ids and timestamps may hold these digits
            assert not re.search(rf"(?<![\w.:-]){re.escape(number)}(?!\w)", text), number
        for q in shown["questions"]:
            own = choices[q["id"]]
            assert q["review"] is None
            kind = q["kind"]
            if kind in ("short_answer", "numerical", "essay", "description"):
                assert q["choices"] == [] and q["options"] == [], kind  # accepted answers stay on the server
            if kind == "matching":
                pair_ids = {str(c.id) for c in own}
                assert {o["id"] for o in q["options"]}.isdisjoint(pair_ids)  # option ids say nothing
                assert {c["text"] for c in q["choices"]} == {c.text for c in own if c.text}
                assert {o["text"] for o in q["options"]} == {c.match_text for c in own}


async def test_option_ids_are_made_per_attempt(client, session, keyring, settings):
    headers, rows = await bank_setup(session, keyring, settings, bank())
    first = await start(client, headers, rows)
    assert (await client.post(f"/api/v1/attempts/{first['id']}/submit", headers=headers)).json()["score"] == 0
    second = await start(client, headers, rows)
    ids = [{o["id"] for q in a["questions"] for o in q["options"]} for a in (first, second)]
    assert ids[0] and ids[0].isdisjoint(ids[1])


PARTIAL = """::single half::Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}

::multiple::Who is entombed in Grant's tomb? {~%-50%No one ~%50%Grant ~%50%Grant's wife ~%-50%Grant's father}

::short::Jesus Christ was from {=Nazareth#Yes! =%75%Nazereth#Right, but misspelled. =%25%Bethlehem}.

::numerical::When was Ulysses S. Grant born? {#=1822:0 =%50%1822:2}

::matching::Match the capitals. {=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo}

::tf::The sun rises in the east.{T}
"""


@pytest.mark.parametrize(("title", "answer", "earned"), [
    ("single half", {"choice": "half credit answer"}, 0.5),
    ("single half", {"choice": "wrong answer"}, 0),
    ("multiple", {"choices": ["Grant"]}, 0.5),
    ("multiple", {"choices": ["Grant", "No one"]}, 0),  # -50 + 50, and never below 0
    ("multiple", {"choices": ["Grant", "Grant's wife", "No one"]}, 0.5),
    ("short", {"text": "nazereth"}, 0.75),
    ("short", {"text": "Bethlehem"}, 0.25),
    ("short", {"text": "Jerusalem"}, 0),
    ("numerical", {"text": "1821"}, 0.5),
    ("numerical", {"text": "1.822,0"}, 1),
    ("numerical", {"text": "1825"}, 0),
    ("numerical", {"text": "năm 1822"}, 0),
    ("matching", {"pairs": {"Canada": "Ottawa", "Italy": "Tokyo", "Japan": "Rome"}}, 1 / 3),
    ("matching", {"pairs": {"Canada": "Ottawa", "Italy": "Rome"}}, 2 / 3),
    ("tf", {"choice": "Sai"}, 0),
])
async def test_wrong_and_partial_answers_earn_what_moodle_gives(client, session, keyring, settings, title,
                                                                answer, earned):
    headers, rows = await bank_setup(session, keyring, settings, PARTIAL.encode())
    attempt = await start(client, headers, rows)
    stored_questions, choices = await stored(session, rows.quizzes["final"].id)
    question = next(q for q in attempt["questions"] if stored_questions[q["id"]].title == title)
    own = {c.text: str(c.id) for c in choices[question["id"]]}
    given: dict = {"question_id": question["id"]}
    if "choice" in answer or "choices" in answer:
        given["choice_ids"] = [own[t] for t in answer.get("choices", [answer.get("choice")])]
    elif "text" in answer:
        given["text"] = answer["text"]
    else:
        options = {o["text"]: o["id"] for o in question["options"]}
        given["matches"] = [{"choice_id": own[left], "option_id": options[right]}
                            for left, right in answer["pairs"].items()]
    r = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers, json={"answers": [given]})
    assert r.status_code == 200, r.text
    review = next(q["review"] for q in r.json()["questions"] if q["id"] == question["id"])
    assert review["earned"] == pytest.approx(earned)
    assert r.json()["score"] == pytest.approx(round(100 * earned / 6, 2))


async def test_answers_of_the_wrong_shape_are_refused_by_field(client, session, keyring, settings):
    headers, rows = await bank_setup(session, keyring, settings, bank())
    attempt = await start(client, headers, rows)
    by_kind = {q["kind"]: q for q in attempt["questions"]}
    bad = [
        {"question_id": by_kind["matching"]["id"], "choice_ids": [by_kind["matching"]["choices"][0]["id"]]},
        {"question_id": by_kind["matching"]["id"], "matches": [
            {"choice_id": by_kind["matching"]["choices"][0]["id"],
             "option_id": by_kind["matching"]["choices"][1]["id"]}]},
        {"question_id": by_kind["description"]["id"], "text": "x"},
        {"question_id": by_kind["numerical"]["id"], "text": "1" * 501},
        {"question_id": by_kind["essay"]["id"], "choice_ids": [by_kind["single"]["choices"][0]["id"]]},
    ]
    r = await client.put(f"/api/v1/attempts/{attempt['id']}/answers", headers=headers, json={"answers": bad})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [
        "answers.0.matches", "answers.1.matches", "answers.2.question_id", "answers.3.text",
        "answers.4.choice_ids"]
    essay = {"question_id": by_kind["essay"]["id"], "text": "Bài viết dài. " * 700}
    r = await client.put(f"/api/v1/attempts/{attempt['id']}/answers", headers=headers, json={"answers": [essay]})
    assert r.status_code == 200 and r.json()["answers"][0]["text"].startswith("Bài viết dài.")


async def test_missing_word_and_html_prompts_are_rendered_safely(client, session, keyring, settings):
    text = ("Grant is {~buried =entombed ~living} in Grant's <tomb>.\n\n"
            "[html]<p onmouseover=\"steal()\">Chọn <script>alert(1)</script><b>đúng</b></p>{=a ~<img src\\=x "
            "onerror\\=alert(1)>}\n\n[markdown]Ai **được** hỏi <script>x()</script> mã OTP?{T}\n")
    headers, rows = await bank_setup(session, keyring, settings, text.encode(), shuffle=False)
    attempt = await start(client, headers, rows)
    blank, html, markdown = attempt["questions"]
    assert blank["blank"] is True and blank["text_format"] == "html"
    assert blank["prompt"] == ('Grant is <span class="hocso-blank" data-blank="1">_____</span> in Grant\'s '
                               '&lt;tomb&gt;.')
    assert html["prompt"] == "<p>Chọn <b>đúng</b></p>" and html["text_format"] == "html"
    assert {c["text"] for c in html["choices"]} == {"a", '<img src="x">'}
    assert markdown["prompt"] == "<p>Ai <strong>được</strong> hỏi  mã OTP?</p>"
    for marker in ("script", "onerror", "onmouseover", "alert", "x()"):
        assert marker not in json.dumps(attempt)


async def test_the_review_gives_the_feedback_of_the_answer_that_graded_a_typed_answer(client, session, keyring,
                                                                                      settings):
    text = "::n::Năm? {#=1822:0#Đúng năm =%50%1822:2#Gần đúng ~#Sai xa}\n\n::s::Thành phố? {=Huế#Đúng =%0%*#Thử lại}\n"
    headers, rows = await bank_setup(session, keyring, settings, text.encode(), shuffle=False)
    attempt = await start(client, headers, rows)
    numerical, short = attempt["questions"]
    answers = [{"question_id": numerical["id"], "text": "1823"}, {"question_id": short["id"], "text": "Vinh"}]
    body = (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers,
                              json={"answers": answers})).json()
    reviews = [q["review"] for q in body["questions"]]
    assert [(r["earned"], r["answer_feedback"]) for r in reviews] == [(0.5, "Gần đúng"), (0, "Thử lại")]
    assert reviews[0]["accepted_answers"] == ["1822", "1822 ± 2"]


async def test_either_of_two_right_answers_in_a_single_choice_question_earns_full_credit(client, session, keyring,
                                                                                       settings):
    text = "::d::Tên miền của cơ quan nhà nước? {=.gov.vn =gov.vn ~.com.vn}\n"
    headers, rows = await bank_setup(session, keyring, settings, text.encode())
    scores = {}
    for picked in (".gov.vn", "gov.vn", ".com.vn"):
        attempt = await start(client, headers, rows)
        [question] = attempt["questions"]
        assert question["kind"] == "single"
        choice = next(c["id"] for c in question["choices"] if c["text"] == picked)
        graded = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=headers,
                                   json={"answers": [{"question_id": question["id"], "choice_ids": [choice]}]})
        assert graded.status_code == 200, graded.text
        scores[picked] = graded.json()["score"]
    assert scores == {".gov.vn": 100, "gov.vn": 100, ".com.vn": 0}
