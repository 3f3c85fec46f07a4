"""How a package is refused: every problem at once, each with its file and (where it has them) its line and
column."""

from typing import Any

from app.core.errors import FieldError
from app.core.i18n import t


class PackageInvalid(Exception):
    """The package cannot be imported; `errors` lists every problem found, in file order."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the package")
        self.errors = errors


def problem(message: str, file: str, line: int | None = None, column: int | None = None,
            **params: Any) -> FieldError:
    """A problem in `file`; `column` (from 1, where the parser gives one) is kept beside the line and is also
    a parameter of the message, which may say it in words."""
    error = FieldError(message, file=file, line=line, **params)
    if column is not None:
        error["column"] = error.params["column"] = column
    return error


def to_record(error: FieldError) -> dict[str, Any]:
    """What an import job keeps: the message key and its parameters, rendered in the reader's language."""
    record: dict[str, Any] = {k: v for k, v in error.items() if k in ("file", "line", "column", "hint", "detail")}
    record["message"] = error["message"]
    if error.params:
        record["params"] = {k: v for k, v in error.params.items()}
    return record


def render_record(record: dict[str, Any]) -> dict[str, Any]:
    """`{file, line?, column?, message, hint?, detail?}` in the current request's language."""
    rendered = {k: record[k] for k in ("file", "line", "column") if record.get(k) is not None}
    rendered["message"] = t(record["message"], **record.get("params", {}))
    if record.get("hint"):  # a YAML syntax error: what to change, and the parser's own words as a detail
        rendered["hint"] = t(record["hint"], **record.get("params", {}))
        rendered["detail"] = record.get("detail")
    return rendered
