"""Opaque keyset cursors: the sort values of the last row seen, as base64url JSON, for every list.

A cursor comes from the client, so it is input like any other: every list decodes it here, naming the type of
each value, and each value is checked for type and range before it reaches a query (a naive time, an integer
wider than its column or a NUL byte in a string was a 500 from the database; issue 18).
"""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.core.errors import FieldError, ValidationFailed
from app.core.i18n import messages
from app.core.text import has_control_characters

messages({"cursor_invalid": ("Con trỏ phân trang không hợp lệ.", "The page cursor is invalid.")})

MAX_CURSOR_TEXT = 1000
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)

Field = Callable[[Any], Any]


def encode_cursor(*values: str | int | float | None) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def whole_number(low: int = INT64[0], high: int = INT64[1]) -> Field:
    """An integer (not a bool, not a float) within the column's range."""
    def parse(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise ValueError("cursor integer")
        return value
    return parse


def text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT or has_control_characters(value):
        raise ValueError("cursor text")
    return value


def moment(value: Any) -> datetime:
    """An ISO 8601 time with its offset, representable in UTC (year 0001 at +14:00 is not)."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("cursor time")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("cursor time without offset")
    return parsed.astimezone(UTC)


def identifier(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("cursor id")
    return uuid.UUID(value)


def exactly(expected: str) -> Field:
    def parse(value: Any) -> str:
        if value != expected:
            raise ValueError("cursor of another kind")
        return value
    return parse


def decode_cursor(cursor: str, *fields: Field) -> tuple[Any, ...]:
    """The cursor's values, one per field and each parsed by it; anything malformed, of the wrong type or out
    of range is a 422 on the `cursor` field, never a 500."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError("not a cursor")
        return tuple(parse(value) for parse, value in zip(fields, values, strict=True))
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationFailed(errors=[FieldError("cursor_invalid", field="cursor")]) from None
