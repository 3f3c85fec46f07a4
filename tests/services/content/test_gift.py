"""The GIFT subset: what is understood, and how everything else is refused (line and question title)."""

import pytest

from app.core.i18n import set_language
from app.models.quiz import BLANK, QuestionKind, TextFormat
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


def test_several_right_answers_beside_wrong_ones_are_single_choice_each_fully_right():
    # Moodle's GIFT importer: any `=` makes it single choice, and every `=` answer is worth 100%.
    q = only("::Tên miền::Tên miền của cơ quan nhà nước? {=.gov.vn#Đúng =.gov.vn.#Cũng đúng ~.com.vn}")
    assert q.kind == QuestionKind.single
    assert choices(q) == [(".gov.vn", 100, "Đúng"), (".gov.vn.", 100, "Cũng đúng"), (".com.vn", 0, None)]


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


def test_missing_word_keeps_a_blank_where_the_answer_block_was():
    q = only("::Điền:: Thủ đô của Việt Nam là {=Hà Nội ~Huế ~Đà Nẵng} từ năm 1976.")
    assert q.kind == QuestionKind.single and q.prompt == f"Thủ đô của Việt Nam là {BLANK} từ năm 1976."
    short = only("Hai cộng hai bằng {=bốn =4}.")
    assert short.kind == QuestionKind.short_answer and short.prompt == f"Hai cộng hai bằng {BLANK}."


def test_an_author_cannot_forge_the_blank_marker():
    q = only(f"Câu {BLANK} hỏi {{T}}")
    assert BLANK not in q.prompt


@pytest.mark.parametrize(("block", "expected"), [
    ("{#1822}", [("1822", 100, 1822, 0)]),
    ("{#3.1415:0.0005}", [("3.1415 ± 0.0005", 100, 3.1415, 0.0005)]),
    ("{#3,1415:0,0005}", [("3,1415 ± 0,0005", 100, 3.1415, 0.0005)]),
    ("{#3.141..3.142}", [("3.141..3.142", 100, 3.1415, 0.0005)]),
    ("{#-5:1}", [("-5 ± 1", 100, -5, 1)]),
    ("{#\n =1822:0 #Đúng\n =%50%1822:2 #Gần đúng\n}", [("1822", 100, 1822, 0), ("1822 ± 2", 50, 1822, 2)]),
])
def test_numerical_answers_values_and_tolerances(block, expected):
    q = only(f"Năm sinh? {block}")
    assert q.kind == QuestionKind.numerical
    got = [(c.text, c.weight, c.value, c.tolerance) for c in q.choices]
    assert [(t, w) for t, w, _, _ in got] == [(t, w) for t, w, _, _ in expected]
    for (_, _, value, tolerance), (_, _, want_value, want_tolerance) in zip(got, expected, strict=True):
        assert value == pytest.approx(want_value) and tolerance == pytest.approx(want_tolerance)


def test_numerical_feedback_for_any_other_number():
    q = only("Bao nhiêu tỉnh? {#34#Đúng ~#Hiện có 34 đơn vị cấp tỉnh.}")
    assert [(c.text, c.weight, c.value, c.feedback) for c in q.choices] == [
        ("34", 100, 34, "Đúng"), ("*", 0, None, "Hiện có 34 đơn vị cấp tỉnh.")]


def test_matching_pairs_and_distractors():
    q = only("::Ghép:: Ghép dịch vụ {\n =Căn cước -> Bộ Công an\n =Thuế -> Bộ Tài chính\n"
             " =BHXH -> BHXH Việt Nam\n =-> Bộ Y tế\n}")
    assert q.kind == QuestionKind.matching
    assert [(c.text, c.match_text) for c in q.choices] == [
        ("Căn cước", "Bộ Công an"), ("Thuế", "Bộ Tài chính"), ("BHXH", "BHXH Việt Nam"), ("", "Bộ Y tế")]


def test_essay_and_description():
    essay = only("::Tự luận:: Hãy nêu ba cách giữ an toàn tài khoản. {####Gợi ý: mật khẩu, OTP, 2FA.}")
    assert (essay.kind, essay.choices, essay.feedback) == (QuestionKind.essay, [], "Gợi ý: mật khẩu, OTP, 2FA.")
    text = only("::Phần 2:: Phần sau nói về an toàn thông tin.")
    assert (text.kind, text.title, text.prompt) == (QuestionKind.description, "Phần 2",
                                                   "Phần sau nói về an toàn thông tin.")


def test_categories_apply_to_the_questions_after_them():
    questions, errors = parse("Câu một {T}\n\n$CATEGORY: $course$/An toàn\n\nCâu hai {T}\n\n"
                              "$CATEGORY: Kỹ năng/Cơ bản\nCâu ba {F}")
    assert errors == [] and [q.category for q in questions] == [None, "$course$/An toàn", "Kỹ năng/Cơ bản"]


def test_formats_are_kept_and_html_is_sanitised_at_import():
    md = only("[markdown]Ai **được** hỏi mã OTP? {=không ai}")
    assert (md.format, md.prompt) == (TextFormat.markdown, "Ai **được** hỏi mã OTP?")
    html = only('::H::[html]<p onclick="x()">Chọn <b>đúng</b><script>alert(1)</script></p> {'
                '=<i>A</i><img src\\=x onerror\\=alert(1)> ~B}')
    assert html.format == TextFormat.html
    assert html.prompt == "<p>Chọn <b>đúng</b></p>" and html.choices[0].text == '<i>A</i><img src="x">'
    assert only("[plain]<b>x</b> {T}").format == TextFormat.plain
    assert only("[moodle]Văn bản {T}").format == TextFormat.plain


# --- refused ---

@pytest.mark.parametrize(("text", "expected"), [
    ("::A:: Câu {=a ~b", "without a matching"),
    ("::A Câu {=a ~b}", "::title:: is not closed"),
    ("::A:: Câu {chữ =a ~b}", "text before the first"),
    ("::A:: Câu {= ~b}", "an answer is empty"),
    ("::A:: {=a ~b}", "question text is empty"),
    ("::A:: Câu {~a ~b}", "no answer is right"),
    ("::A:: Câu {~%50%a ~%20%b ~c}", "add up to 70.0%"),
    ("::A:: Câu {~%abc%a ~%100%b}", "weight “abc”"),
    ("::A:: Câu {~%150%a ~%-50%b}", "weight “150”"),
    ("::A:: Số? {#abc}", "“abc” is not a number"),
    ("::A:: Số? {#3..1}", "“3..1” is not a number"),
    ("::A:: Số? {#=%50%3 =%20%4}", "at least one answer must be worth 100%"),
    ("::A:: Ghép {=a -> 1 =b -> 2}", "at least three pairs"),
    ("::A:: Ghép {=a -> 1 =-> 2 =-> 3}", "at least two of them with a left side"),
    ("::A:: Ghép {=a -> 1 =b 2 =c -> 3}", "lacks “->”"),
    ("::A:: {}", "question text is empty"),
])
def test_syntax_errors_name_the_question(text, expected):
    _, [error] = parse(text)
    message = error.render()["message"]
    assert message.startswith("Question “") and "A" in message and expected in message


def test_the_line_points_at_the_bad_answer_inside_a_multi_line_question():
    _, [error] = parse("::Nhiều dòng::\nCâu hỏi\n{\n=a\n~b\n~%abc%c\n}")
    assert error["line"] == 6


def test_every_problem_is_reported_at_once():
    _, errors = parse("::A:: {=a ~b}\n\n::B:: Câu {#x}\n\n::C:: Câu {~a}")
    assert [e["line"] for e in errors] == [1, 3, 5]


def test_an_empty_or_non_utf8_file_is_refused():
    assert parse_gift(b"// only a comment\n", "q.gift")[1][0]["message"] == "gift_empty"
    assert parse_gift("Câu {T}".encode("utf-16"), "q.gift")[1][0]["message"] == "gift_not_utf8"
