"""The CSV file of a multipart upload, read as it arrives and refused as soon as it passes the limit."""

from collections.abc import AsyncIterator

from app.core.errors import FieldError, PayloadTooLarge, ValidationFailed
from app.core.i18n import messages
from app.core.multipart import MultipartFile

messages({
    "units_csv_too_large": ("Tệp CSV vượt quá giới hạn {limit} byte.", "The CSV file exceeds {limit} bytes."),
    "units_csv_missing": ("Thiếu tệp CSV trong trường “file”.", "The CSV file is missing from “file”."),
})

_MULTIPART_ENVELOPE = 16 * 1024  # boundaries and part headers around the file


async def read_csv_file(body: AsyncIterator[bytes], content_type: str | None, content_length: str | None,
                        limit: int) -> bytes:
    """The multipart field `file`, whole (a headcount list is small: `limit` bounds it)."""
    if content_length and content_length.isdigit() and int(content_length) > limit + _MULTIPART_ENVELOPE:
        raise PayloadTooLarge("units_csv_too_large", limit=limit)
    upload = MultipartFile(body, content_type, field="file", limit=limit)
    chunks = []
    try:
        async for chunk in upload.chunks():
            chunks.append(chunk)
    except PayloadTooLarge:
        raise PayloadTooLarge("units_csv_too_large", limit=limit) from None
    except ValidationFailed as exc:
        if any(error["message"] == "upload_file_missing" for error in exc.errors):
            raise ValidationFailed(errors=[FieldError("units_csv_missing", field="file")]) from None
        raise
    return b"".join(chunks)
