"""YAML mistakes in course.yaml explained in Vietnamese (English on request) with line, column and a hint; the
parser's English only as the detail."""

import pytest
import yaml

from app.core.i18n import t
from app.services.content.packages.problems import render_record, to_record
from app.services.content.packages.yaml_problems import explain

HEAD = "format: hocso-course/1\nslug: ky-nang-so\n"


def explained(text: str) -> dict:
    loader = yaml.SafeLoader(text)
    try:
        loader.get_single_node()
    except yaml.YAMLError as exc:
        return render_record(to_record(explain(exc, text, "course.yaml")))
    finally:
        loader.dispose()
    raise AssertionError("the text parsed")


@pytest.mark.parametrize(("body", "line", "column", "words"), [
    ("modules:\n\t- title: Mở đầu\n", 4, 1, "có ký tự tab"),
    ("title Kỹ năng số cơ bản\nlanguage: vi\n", 3, 1, "thiếu dấu hai chấm “:” sau tên trường “title Kỹ năng"),
    ("course:\n  title Kỹ năng\n  language: vi\n", 4, 3, "thiếu dấu hai chấm “:” sau tên trường “title Kỹ năng”"),
    ("title: Kỹ năng số: cơ bản\n", 3, 18, "giá trị có dấu hai chấm"),
    ("title: Kỹ năng\n  language: vi\n", 4, 3, "thụt lề không khớp"),
    ("modules:\n  - title: a\n    lessons: []\n   - title: b\n", 6, 4, "thụt lề không khớp"),
    ("title: ? Bạn đã biết\n", 3, 8, "bắt đầu bằng “?”"),
    ("tags: [an-toan, #bao-mat]\n", 3, 17, "dấu “#” không có ngoặc kép"),
    ("title: - Mở đầu\n", 3, 8, "bắt đầu bằng “- ”"),
    ("title: @HocSo\n", 3, 8, "không được bắt đầu bằng “@”"),
    ("title: \"Kỹ năng số\nlanguage: vi\n", 3, 8, "dấu ngoặc kép mở ở đây nhưng không được đóng"),
    ("language: [vi\naudiences: [citizen]\n", 3, 11, "dấu “[” mở ở đây nhưng không được đóng"),
    ("title: a\n---\ntitle: b\n", 4, 1, "chỉ được chứa một tài liệu YAML"),
])
def test_each_mistake_is_named_with_its_line_column_and_a_hint(body, line, column, words):
    error = explained(HEAD + body)
    assert (error["file"], error["line"], error["column"]) == ("course.yaml", line, column), error
    assert words in error["message"] and error["message"].startswith(f"Dòng {line}")
    assert error["hint"] and "Line" not in error["hint"]
    assert error["detail"] and "YAML" not in error["message"].split(":")[0]


def test_the_parsers_english_is_only_the_detail():
    error = explained(HEAD + "title Kỹ năng\nlanguage: vi\n")
    assert "could not find expected ':'" in error["detail"]
    assert "could not" not in error["message"] and "could not" not in error["hint"]


def test_english_on_request():
    text = HEAD + "title: Kỹ năng số: cơ bản\n"
    record = to_record(explain(_error(text), text, "course.yaml"))
    assert t(record["message"], "en", **record["params"]).startswith("Line 3, column 18: the value contains")
    assert "double quotes" in t(record["hint"], "en")


def _error(text: str) -> yaml.YAMLError:
    try:
        yaml.SafeLoader(text).get_single_node()
    except yaml.YAMLError as exc:
        return exc
    raise AssertionError("the text parsed")
