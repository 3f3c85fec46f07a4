"""The GIFT subset: what is understood, and how everything else is refused (line and question title)."""

import pytest

from app.core.i18n import set_language
from app.models.quiz import QuestionKind
from app.services.content.packages.gift import parse_gift


def parse(text: str):
    return parse_gift(text.encode(), "q.gift")


def only(text: str):
    questions, errors = parse(text)
    assert errors == []
    [question] = questions
    return question


def choices(question) -> list[tuple[str, float, str | None]]:
    return [(c.text, c.weight, c.feedback) for c in question.choices]


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("vi")


# --- understood ---

def test_single_choice_with_title_and_per_answer_feedback():
    q = only("::Mật khẩu::Mật khẩu nào mạnh nhất? {=Hoa-Sen-2026!#Đúng ~123456#Dễ đoán ~abc}")
    assert (q.kind, q.title, q.prompt) == (QuestionKind.single, "Mật khẩu", "Mật khẩu nào mạnh nhất?")
    assert choices(q) == [("Hoa-Sen-2026!", 100, "Đúng"), ("123456", 0, "Dễ đoán"), ("abc", 0, None)]


def test_multiple_response_with_weights_and_general_feedback():
    q = only("Dấu hiệu lừa đảo? {\n ~%50%Chuyển tiền gấp\n ~%50%Link lạ\n ~%-100%Tổng đài\n ####Cẩn thận.\n}")
    assert q.kind == QuestionKind.multiple and q.feedback == "Cẩn thận."
    assert choices(q) == [("Chuyển tiền gấp", 50, None), ("Link lạ", 50, None), ("Tổng đài", -100, None)]


@pytest.mark.parametrize(("answer", "right"), [("T", True), ("F", False), ("TRUE", True), ("FALSE", False)])
def test_true_false_forms(answer, right):
    q = only(f"VNeID là ứng dụng định danh điện tử. {{{answer}}}")
    assert q.kind == QuestionKind.true_false
    assert choices(q) == [("Đúng", 100 if right else 0, None), ("Sai", 0 if right else 100, None)]


def test_true_false_feedback_goes_to_the_wrong_and_right_choice():
    q = only("OTP có nên chia sẻ? {F#Sai rồi#Chính xác}")
    assert choices(q) == [("Đúng", 0, "Sai rồi"), ("Sai", 100, "Chính xác")]


def test_short_answer_accepts_every_listed_answer():
    q = only("Ứng dụng định danh tên gì? {=VNeID =vneid =%50%VNe ID}")
    assert q.kind == QuestionKind.short_answer
    assert choices(q) == [("VNeID", 100, None), ("vneid", 100, None), ("VNe ID", 50, None)]


def test_comments_categories_and_escapes():
    questions, errors = parse("// chú thích\n$CATEGORY: $course$/A\n\n"
                              "::Ký hiệu\\: A::Dấu \\{ \\} \\= \\~ \\# dùng thế nào? "
                              "{=a\\=b ~c\\#d ~e\\~f}\n")
    assert errors == []
    [q] = questions
    assert q.title == "Ký hiệu: A" and q.prompt == "Dấu { } = ~ # dùng thế nào?"
    assert [c.text for c in q.choices] == ["a=b", "c#d", "e~f"]


def test_questions_are_separated_by_blank_lines_and_keep_their_lines():
    questions, errors = parse("Câu một {T}\n\n\n::Hai:: Câu hai\n{=a ~b}\n")
    assert errors == [] and [q.line for q in questions] == [1, 4]


def test_text_is_normalised_to_nfc():
    decomposed = "Ky\u0303 na\u0306ng {T}"
    q = only(decomposed)
    assert q.prompt == "Kỹ năng"


# --- refused ---

@pytest.mark.parametrize(("text", "kind"), [
    ("::Ghép:: Ghép cặp {=a -> 1 =b -> 2}", "matching"),
    ("::Số:: Bao nhiêu tỉnh? {#34}", "numerical"),
    ("::Tự luận:: Hãy trình bày. {}", "essay"),
    ("::Điền:: Thủ đô là {=Hà Nội ~Huế} của Việt Nam.", "missing word"),
    ("::Mô tả:: Chỉ là đoạn văn.", "description"),
])
def test_other_question_types_are_refused_by_name(text, kind):
    questions, [error] = parse("Câu đúng {T}\n\n" + text)
    assert len(questions) == 1
    rendered = error.render()
    assert rendered["file"] == "q.gift" and rendered["line"] == 3
    assert f"“{kind}”" in rendered["message"] and rendered["message"].startswith("Question “")


@pytest.mark.parametrize(("text", "expected"), [
    ("::A:: Câu {=a ~b", "without a matching"),
    ("::A Câu {=a ~b}", "::title:: is not closed"),
    ("::A:: Câu {chữ =a ~b}", "text before the first"),
    ("::A:: Câu {= ~b}", "an answer is empty"),
    ("::A:: {=a ~b}", "question text is empty"),
    ("::A:: Câu {=a =b ~c}", "several “=” answers"),
    ("::A:: Câu {~a ~b}", "no answer is right"),
    ("::A:: Câu {~%50%a ~%20%b ~c}", "add up to 70.0%"),
    ("::A:: Câu {~%abc%a ~%100%b}", "weight “abc”"),
    ("::A:: Câu {~%150%a ~%-50%b}", "weight “150”"),
])
def test_syntax_errors_name_the_question(text, expected):
    _, [error] = parse(text)
    message = error.render()["message"]
    assert message.startswith("Question “") and "A" in message and expected in message


def test_the_line_points_at_the_bad_answer_inside_a_multi_line_question():
    _, [error] = parse("::Nhiều dòng::\nCâu hỏi\n{\n=a\n~b\n~%abc%c\n}")
    assert error["line"] == 6


def test_every_problem_is_reported_at_once():
    _, errors = parse("::A:: {=a ~b}\n\n::B:: Câu {#1}\n\n::C:: Câu {~a}")
    assert [e["line"] for e in errors] == [1, 3, 5]


def test_an_empty_or_non_utf8_file_is_refused():
    assert parse_gift(b"// only a comment\n", "q.gift")[1][0]["message"] == "gift_empty"
    assert parse_gift("Câu {T}".encode("utf-16"), "q.gift")[1][0]["message"] == "gift_not_utf8"
