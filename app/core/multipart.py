"""The streaming multipart reader: one file field of a multipart/form-data body, as its bytes arrive.

The body is parsed incrementally (python-multipart's push parser), so a file flows on chunk by chunk: several GB
pass through with memory bounded by one network chunk, and a body over `limit` is refused as soon as it passes it.
"""

from collections.abc import AsyncIterator

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.core.errors import FieldError, PayloadTooLarge, ValidationFailed
from app.core.i18n import messages

messages({
    "upload_not_multipart": ("Cần gửi multipart/form-data có trường “file”.",
                             "Send multipart/form-data with a “file” field."),
    "upload_file_missing": ("Thiếu tệp gói trong trường “file”.", "The package file is missing from “file”."),
    "upload_malformed": ("Nội dung multipart không hợp lệ.", "The multipart body is malformed."),
    "file_too_large": ("Tệp vượt quá giới hạn {limit} byte.", "The file exceeds the {limit}-byte limit."),
})


class MultipartFile:
    """The first file part named `field` of a multipart body, as an async stream of its bytes."""

    def __init__(self, body: AsyncIterator[bytes], content_type: str | None, *, field: str,
                 limit: int, too_large: str = "file_too_large") -> None:
        kind, params = parse_options_header(content_type or "")
        if kind != b"multipart/form-data" or not params.get(b"boundary"):
            raise ValidationFailed(errors=[FieldError("upload_not_multipart", field=field)])
        self.body, self.field, self.limit, self.too_large = body, field, limit, too_large
        self.filename: str | None = None
        self.size = 0
        self._state = "waiting"  # waiting -> reading -> done
        self._headers: dict[bytes, bytes] = {}
        self._name, self._value = b"", b""
        self._pending: list[bytes] = []
        self.parser = MultipartParser(params[b"boundary"], {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
            "on_part_end": self._part_end})

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        wanted = options.get(b"name") == self.field.encode() and b"filename" in options
        if self._state == "waiting" and wanted:
            self._state = "reading"
            self.filename = options[b"filename"].decode("utf-8", "replace")[:300] or None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._state == "reading":
            self._pending.append(data[start:end])

    def _part_end(self) -> None:
        if self._state == "reading":
            self._state = "done"

    def _drain(self) -> list[bytes]:
        pieces, self._pending = self._pending, []
        for piece in pieces:
            self.size += len(piece)
            if self.size > self.limit:
                raise PayloadTooLarge(self.too_large, limit=self.limit)
        return pieces

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.body:
                self.parser.write(chunk)
                for piece in self._drain():
                    yield piece
            self.parser.finalize()
        except MultipartParseError:
            raise ValidationFailed(errors=[FieldError("upload_malformed", field=self.field)]) from None
        for piece in self._drain():
            yield piece
        if self._state != "done":
            raise ValidationFailed(errors=[FieldError("upload_file_missing", field=self.field)])
