"""A YAML syntax error in course.yaml explained in words a content admin can act on: what is wrong (a tab, a
missing `:`, a `:` `?` `#` or `-` that needs quotes, indentation, an unclosed quote or bracket), on which line
and column, and a hint; PyYAML's own English text is kept only as `detail`.

PyYAML often notices a mistake one line late (a key without `:` is reported at the next line's `:`), so the
source line is read to name the line the admin has to fix.
"""

import yaml

from app.core.errors import FieldError
from app.core.i18n import messages

QUOTE_HINT = ("Đặt cả giá trị trong ngoặc kép, ví dụ: title: \"{example}\".",
              "Put the whole value in double quotes, for example: title: \"{example}\".")

messages({
    "yaml_tab": ("Dòng {line}, cột {column}: có ký tự tab; YAML chỉ cho thụt lề bằng dấu cách.",
                 "Line {line}, column {column}: a tab character; YAML indents with spaces only."),
    "yaml_tab_hint": ("Thay mỗi tab bằng dấu cách (mỗi cấp thụt vào 2 dấu cách).",
                      "Replace each tab with spaces (2 spaces per level)."),
    "yaml_missing_colon": ("Dòng {line}: thiếu dấu hai chấm “:” sau tên trường “{name}”.",
                           "Line {line}: the field name “{name}” is not followed by a colon “:”."),
    "yaml_missing_colon_hint": ("Viết “tên: giá trị”, có một dấu cách sau dấu hai chấm.",
                                "Write “name: value”, with a space after the colon."),
    "yaml_colon_in_value": (
        "Dòng {line}, cột {column}: giá trị có dấu hai chấm “: ” nên bị hiểu nhầm là một trường mới.",
        "Line {line}, column {column}: the value contains “: ”, which YAML reads as a new field."),
    "yaml_colon_hint": (QUOTE_HINT[0].format(example="Kỹ năng số: cơ bản"),
                        QUOTE_HINT[1].format(example="Digital skills: basics")),
    "yaml_indentation": ("Dòng {line}, cột {column}: thụt lề không khớp với các dòng phía trên.",
                         "Line {line}, column {column}: the indentation does not match the lines above."),
    "yaml_indentation_hint": (
        "Các trường cùng cấp phải thẳng cột với nhau; trường con thụt vào thêm 2 dấu cách; các mục “- ” của "
        "một danh sách thẳng cột với nhau.",
        "Fields of one level start in the same column; a nested field is indented 2 more spaces; the “- ” items "
        "of one list line up."),
    "yaml_question": ("Dòng {line}, cột {column}: giá trị bắt đầu bằng “?” mà không có ngoặc kép.",
                      "Line {line}, column {column}: a value starts with “?” without quotes."),
    "yaml_question_hint": (QUOTE_HINT[0].format(example="? Câu hỏi"), QUOTE_HINT[1].format(example="? Question")),
    "yaml_hash": ("Dòng {line}, cột {column}: dấu “#” không có ngoặc kép nên phần sau nó bị coi là chú thích.",
                  "Line {line}, column {column}: a “#” without quotes turns the rest of the line into a comment."),
    "yaml_hash_hint": (QUOTE_HINT[0].format(example="Bài #1"), QUOTE_HINT[1].format(example="Lesson #1")),
    "yaml_dash": ("Dòng {line}, cột {column}: giá trị bắt đầu bằng “- ” bị hiểu là một mục danh sách.",
                  "Line {line}, column {column}: a value starting with “- ” is read as a list item."),
    "yaml_dash_hint": (QUOTE_HINT[0].format(example="- Mở đầu"), QUOTE_HINT[1].format(example="- Opening")),
    "yaml_reserved": ("Dòng {line}, cột {column}: giá trị không được bắt đầu bằng “{char}” nếu không có ngoặc kép.",
                      "Line {line}, column {column}: a value cannot start with “{char}” without quotes."),
    "yaml_reserved_hint": (QUOTE_HINT[0].format(example="@HocSo"), QUOTE_HINT[1].format(example="@HocSo")),
    "yaml_unclosed_quote": ("Dòng {line}, cột {column}: dấu ngoặc kép mở ở đây nhưng không được đóng.",
                            "Line {line}, column {column}: a quote opens here and is never closed."),
    "yaml_unclosed_quote_hint": (
        "Thêm dấu ngoặc kép đóng ở cuối giá trị; một dấu ngoặc kép bên trong giá trị viết là \\\".",
        "Add the closing quote at the end of the value; a quote inside the value is written \\\"."),
    "yaml_unclosed_bracket": ("Dòng {line}, cột {column}: dấu “{char}” mở ở đây nhưng không được đóng.",
                              "Line {line}, column {column}: “{char}” opens here and is never closed."),
    "yaml_unclosed_bracket_hint": ("Đóng bằng “{closing}”; các phần tử cách nhau bằng dấu phẩy.",
                                   "Close it with “{closing}”; separate the items with commas."),
    "yaml_several_documents": ("Dòng {line}: course.yaml chỉ được chứa một tài liệu YAML, nhưng có dòng “---”.",
                               "Line {line}: course.yaml must hold one YAML document, but there is a “---” line."),
    "yaml_several_documents_hint": ("Xóa dòng “---” (và phần thừa sau nó).",
                                    "Remove the “---” line (and whatever extra follows it)."),
    "manifest_yaml": ("Dòng {line}, cột {column}: course.yaml không đúng cú pháp YAML.",
                      "Line {line}, column {column}: course.yaml is not valid YAML."),
    "manifest_yaml_hint": (
        "Kiểm tra thụt lề (dấu cách, không dùng tab), dấu hai chấm sau mỗi tên trường và ngoặc kép quanh giá trị có "
        "ký tự đặc biệt (: # ? - @ `).",
        "Check the indentation (spaces, no tabs), the colon after each field name, and quotes around values with "
        "special characters (: # ? - @ `)."),
})


def _where(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _source_line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _previous_content_line(text: str, line: int) -> tuple[int, str] | None:
    for number in range(line - 1, 0, -1):
        source = _source_line(text, number)
        if source.strip() and not source.lstrip().startswith("#"):
            return number, source
    return None


def _classify(exc: yaml.YAMLError, text: str) -> tuple[str, int, int, dict]:
    """(message key, line, column, params) for the mistake behind PyYAML's error."""
    problem, context = getattr(exc, "problem", "") or "", getattr(exc, "context", "") or ""
    line, column = _where(getattr(exc, "problem_mark", None))
    context_line, context_column = _where(getattr(exc, "context_mark", None))
    source = _source_line(text, line)
    if "'\\t'" in problem or "\t" in source[:column]:
        return "yaml_tab", line, source.index("\t") + 1 if "\t" in source else column, {}
    if "could not find expected ':'" in problem:
        key = _source_line(text, context_line).strip()
        return "yaml_missing_colon", context_line, context_column, {"name": key[:60]}
    if "mapping values are not allowed" in problem:
        before = source[:column - 1]
        if ": " in before or before.rstrip().endswith(":"):  # the line's own key came first: a ": " in a value
            return "yaml_colon_in_value", line, column, {}
        previous = _previous_content_line(text, line)
        if previous and ":" not in previous[1] and not previous[1].lstrip().startswith("- "):
            return "yaml_missing_colon", previous[0], len(previous[1]) - len(previous[1].lstrip()) + 1, {
                "name": previous[1].strip()[:60]}
        return "yaml_indentation", line, len(source) - len(source.lstrip()) + 1, {}
    if "mapping keys are not allowed" in problem:
        return "yaml_question", line, column, {}
    if "sequence entries are not allowed" in problem:
        return "yaml_dash", line, column, {}
    if "that cannot start any token" in problem:
        return "yaml_reserved", line, column, {"char": source[column - 1:column] or "?"}
    if "quoted scalar" in context:
        return "yaml_unclosed_quote", context_line, context_column, {}
    if "flow sequence" in context or "flow mapping" in context or "flow node" in context:
        opened_line = next((n for n in range(min(context_line, line), 0, -1)
                            if "[" in _source_line(text, n) or "{" in _source_line(text, n)), context_line)
        source = _source_line(text, opened_line)
        if "#" in source:  # a comment swallowed the rest of the list, closing bracket included
            return "yaml_hash", opened_line, source.index("#") + 1, {}
        char = "[" if "[" in source else "{"
        return "yaml_unclosed_bracket", opened_line, source.index(char) + 1 if char in source else 1, {
            "char": char, "closing": "]" if char == "[" else "}"}
    if "expected <block end>" in problem or "did not find expected" in problem:
        return "yaml_indentation", line, column, {}
    if "single document" in context:
        return "yaml_several_documents", line, 1, {}
    return "manifest_yaml", line, column, {}


def explain(exc: yaml.YAMLError, text: str, file: str) -> FieldError:
    """The error as `{file, line, column, message, hint, detail}`; message and hint are i18n keys."""
    key, line, column, params = _classify(exc, text)
    error = FieldError(key, file=file, line=line, column=column, **params)
    error["column"] = column
    error.params["line"] = line  # the message says it in words too
    error["hint"] = f"{key}_hint" if key != "yaml_colon_in_value" else "yaml_colon_hint"
    error["detail"] = " ".join(str(exc).split())[:300]
    return error
