"""Opaque keyset cursors: the sort values of the last row seen, as base64url JSON, for every list."""

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from app.core.errors import FieldError, ValidationFailed
from app.core.i18n import messages

T = TypeVar("T")

messages({"cursor_invalid": ("Con trỏ phân trang không hợp lệ.", "The page cursor is invalid.")})


def encode_cursor(*values: str | int | float | None) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parse: Callable[[list[Any]], T]) -> T:
    """Decode a cursor and turn its values back into typed keys with `parse`; anything malformed is a 422 on
    the `cursor` field, never a 500."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list):
            raise ValueError("not a cursor")
        return parse(values)
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(errors=[FieldError("cursor_invalid", field="cursor")]) from None
