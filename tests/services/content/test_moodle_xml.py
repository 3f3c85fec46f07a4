"""Moodle XML banks: every supported type read as Moodle exports it, images embedded, unsupported types and
hostile XML (entity bombs, external entities) refused with the question's name and line."""

import base64
from pathlib import Path

import pytest

from app.core.i18n import set_language
from app.models.quiz import QuestionKind
from app.services.content.packages.moodle_xml import parse_moodle_xml

BANK = Path(__file__).parents[2] / "fixtures" / "moodle" / "bank.xml"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("vi")


def parse(text: str):
    return parse_moodle_xml(text.encode(), "quizzes/bank.xml")


def question(kind: str, body: str, name: str = "Câu") -> str:
    return (f'<question type="{kind}"><name><text>{name}</text></name>'
            f'<questiontext format="html"><text><![CDATA[<p>Hỏi?</p>]]></text></questiontext>{body}</question>')


def test_the_export_with_every_supported_type_imports():
    questions, files, errors = parse_moodle_xml(BANK.read_bytes(), "quizzes/bank.xml")
    assert errors == []
    assert [q.kind for q in questions] == [
        QuestionKind.single, QuestionKind.multiple, QuestionKind.true_false, QuestionKind.short_answer,
        QuestionKind.numerical, QuestionKind.numerical, QuestionKind.matching, QuestionKind.description,
        QuestionKind.essay]
    flag, password, otp, vneid, provinces, pi, services, _, essay = questions
    assert flag.category == "$course$/top/Kỹ năng số/An toàn thông tin" and flag.points == 2
    assert vneid.category == "$course$/top/Kỹ năng số/Dịch vụ công" and services.points == 3
    assert [(c.text, c.weight) for c in otp.choices] == [("Đúng", 0), ("Sai", 100)]
    assert [c.weight for c in password.choices] == [50, 50, -100]
    assert [(c.text, c.weight) for c in vneid.choices] == [("VNeID", 100), ("VNe*", 50)]
    assert [(c.value, c.tolerance, c.weight) for c in provinces.choices] == [(34, 0, 100), (None, 0, 0)]
    assert (pi.choices[0].value, pi.choices[0].tolerance, pi.choices[0].text) == (3.1415, 0.0005,
                                                                                 "3.1415 ± 0.0005")
    assert [(c.text, c.match_text) for c in services.choices][-1] == ("", "Bộ Y tế")  # a distractor
    assert essay.prompt == "<p>Hãy nêu <strong>ba</strong> cách bảo vệ tài khoản ngân hàng của bạn.</p>"
    assert "script" not in flag.choices[2].text and "onclick" not in password.prompt
    assert [(f.content_type, f.data[:4]) for f in files] == [("image/png", b"\x89PNG")] * 2
    assert all(f"@@PLUGINFILE@@/{f.path}" in q.prompt for f, q in zip(files, (flag, password), strict=True))
    assert all(f.path.startswith("quizzes/bank.xml.files/") for f in files)


@pytest.mark.parametrize("kind", ["calculated", "calculatedsimple", "calculatedmulti", "multianswer", "ddwtos",
                                  "ddimageortext", "ddmarker", "gapselect", "randomsamatch", "ordering"])
def test_unsupported_types_are_refused_by_name_with_the_question_name_and_line(kind):
    true_false = question("truefalse", '<answer fraction="100"><text>true</text></answer>')
    text = f'<?xml version="1.0"?>\n<quiz>\n{true_false}\n{question(kind, "", "Tính lãi")}\n</quiz>'
    questions, _, [error] = parse(text)
    rendered = error.render()
    assert (rendered["file"], rendered["line"]) == ("quizzes/bank.xml", 4)
    assert rendered["message"].startswith("Question “Tính lãi”: the “" + kind + "” type is not supported")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE quiz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="description"><name><text>&lol3;</text></name></question></quiz>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="description"><name><text>x</text></name>
<questiontext format="html"><text>&secret;</text></questiontext></question></quiz>"""
REMOTE_DTD = """<?xml version="1.0"?>
<!DOCTYPE quiz SYSTEM "http://127.0.0.1:9/evil.dtd">
<quiz></quiz>"""


@pytest.mark.parametrize("text", [BOMB, EXTERNAL])
def test_entity_bombs_and_external_entities_are_refused_before_expansion(text):
    questions, files, [error] = parse(text)
    assert questions == [] and files == []
    first_entity = text[:text.index("<!ENTITY")].count("\n") + 1
    assert error["message"] == "moodle_xml_entities" and error.render()["line"] == first_entity
    assert "/etc/passwd" not in str(error.render()) and "lol" not in error.render()["message"]


def test_an_external_dtd_is_never_fetched():
    _, _, [error] = parse(REMOTE_DTD)  # port 9 (discard) would hang or fail if it were fetched
    assert error["message"] in ("moodle_xml_entities", "moodle_xml_empty")


def test_syntax_errors_and_other_roots_name_the_line_in_our_words():
    _, _, [error] = parse('<?xml version="1.0"?>\n<quiz>\n<question type="essay">\n</quiz>')
    assert error.render()["message"] == "The XML is not well-formed (column 3 of the line given)."
    assert (error["line"], error["column"]) == (4, 3)
    _, _, [error] = parse("<html><body/></html>")
    assert error["message"] == "moodle_xml_not_quiz"
    _, _, [error] = parse("<quiz></quiz>")
    assert error["message"] == "moodle_xml_empty"


def file_question(files: str, text: str) -> str:
    return (f'<quiz><question type="truefalse"><name><text>Ảnh</text></name><questiontext format="html">'
            f'<text><![CDATA[{text}]]></text>{files}</questiontext>'
            '<answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>'
            '</question></quiz>')


def test_embedded_files_must_be_images_and_referenced_files_embedded():
    mp3 = base64.b64encode(b"ID3\x03\x00\x00\x00" + b"\x00" * 20).decode()
    _, _, [error] = parse(file_question(f'<file name="a.mp3" encoding="base64">{mp3}</file>',
                                        '<a href="@@PLUGINFILE@@/a.mp3">nghe</a>'))
    assert error.render()["message"] == ("Question “Ảnh”: the embedded file “a.mp3” is not a PNG, JPEG, GIF or "
                                         "WebP image.")
    _, _, [error] = parse(file_question("", '<img src="@@PLUGINFILE@@/missing.png">'))
    assert error["message"] == "moodle_xml_file_missing"
    questions, files, errors = parse(file_question(
        f'<file name="a b.png" encoding="base64">{base64.b64encode(PNG).decode()}</file>',
        '<img src="@@PLUGINFILE@@/a%20b.png" onerror="x()">'))
    assert errors == [] and len(files) == 1 and files[0].data == PNG
    assert questions[0].prompt == f'<img src="@@PLUGINFILE@@/{files[0].path}">'


def test_question_rules_apply_as_for_gift():
    body = ('<single>false</single><answer fraction="50"><text>a</text></answer>'
            '<answer fraction="20"><text>b</text></answer>')
    _, _, [error] = parse(f"<quiz>{question('multichoice', body, 'Tổng')}</quiz>")
    assert error.render()["message"] == "Question “Tổng”: positive weights add up to 70.0%, they must make 100%."
    numerical = question("numerical", '<answer fraction="100"><text>ba</text></answer>')
    _, _, [error] = parse(f"<quiz>{numerical}</quiz>")
    assert error["message"] == "moodle_xml_bad_number"
