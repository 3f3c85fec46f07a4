"""Vietnamese by default, English on `Accept-Language: en`.

Each domain registers its own messages next to the code that raises them (`messages({...})`), so the
catalogue grows with the domains instead of in one shared file.
"""

from contextvars import ContextVar
from typing import Literal

Lang = Literal["vi", "en"]
_current: ContextVar[Lang] = ContextVar("lang", default="vi")
_catalogue: dict[str, dict[Lang, str]] = {}


def messages(entries: dict[str, tuple[str, str]]) -> None:
    """Register `key: (vietnamese, english)` message templates."""
    for key, (vi, en) in entries.items():
        _catalogue[key] = {"vi": vi, "en": en}


def negotiate(accept_language: str | None) -> Lang:
    """Pick vi or en from an Accept-Language header by quality; anything else falls back to Vietnamese."""
    if not accept_language:
        return "vi"
    ranked: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            quality = float(q) if q else 1.0
        except ValueError:
            quality = 0.0
        ranked.append((quality, tag.strip().lower()[:2]))
    for _, tag in sorted(ranked, key=lambda r: -r[0]):
        if tag in ("vi", "en"):
            return tag  # type: ignore[return-value]
    return "vi"


def set_language(lang: Lang) -> None:
    _current.set(lang)


def current_language() -> Lang:
    return _current.get()


def t(key: str, lang: Lang | None = None, **params: object) -> str:
    entry = _catalogue.get(key)
    if entry is None:
        return key
    template = entry[lang or _current.get()]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


messages(
    {
        "bad_request": ("Yêu cầu không hợp lệ.", "Bad request."),
        "not_found": ("Không tìm thấy tài nguyên.", "Resource not found."),
        "route_not_found": ("Không có địa chỉ {path}.", "There is no route {path}."),
        "method_not_allowed": (
            "Phương thức {method} không được hỗ trợ tại địa chỉ này.",
            "Method {method} is not allowed here.",
        ),
        "validation_failed": ("Dữ liệu gửi lên không hợp lệ.", "The request data is invalid."),
        "internal_error": (
            "Đã có lỗi hệ thống. Vui lòng thử lại; nếu lỗi lặp lại, báo mã yêu cầu {request_id}.",
            "Something went wrong. Please retry; if it happens again, report request id {request_id}.",
        ),
        "unauthorized": ("Cần đăng nhập.", "Authentication required."),
        "forbidden": ("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
        "conflict": ("Xung đột với dữ liệu hiện có.", "Conflicts with existing data."),
        "rate_limited": (
            "Quá nhiều yêu cầu. Vui lòng thử lại sau {retry_after} giây.",
            "Too many requests. Try again in {retry_after} seconds.",
        ),
        "not_ready": ("Dịch vụ chưa sẵn sàng: {reason}.", "Service not ready: {reason}."),
        "payload_too_large": ("Dữ liệu gửi lên quá lớn.", "The request body is too large."),
        # Pydantic's error types, rendered per field.
        "v.missing": ("Trường này là bắt buộc.", "This field is required."),
        "v.string_too_short": ("Cần ít nhất {min_length} ký tự.", "Must be at least {min_length} characters."),
        "v.string_too_long": ("Tối đa {max_length} ký tự.", "Must be at most {max_length} characters."),
        "v.string_type": ("Cần là chuỗi ký tự.", "Must be a string."),
        "v.int_parsing": ("Cần là số nguyên.", "Must be an integer."),
        "v.int_type": ("Cần là số nguyên.", "Must be an integer."),
        "v.float_parsing": ("Cần là số.", "Must be a number."),
        "v.bool_parsing": ("Cần là true hoặc false.", "Must be true or false."),
        "v.uuid_parsing": ("Cần là UUID hợp lệ.", "Must be a valid UUID."),
        "v.enum": ("Cần là một trong: {expected}.", "Must be one of: {expected}."),
        "v.literal_error": ("Cần là một trong: {expected}.", "Must be one of: {expected}."),
        "v.greater_than_equal": ("Cần lớn hơn hoặc bằng {ge}.", "Must be greater than or equal to {ge}."),
        "v.less_than_equal": ("Cần nhỏ hơn hoặc bằng {le}.", "Must be less than or equal to {le}."),
        "v.greater_than": ("Cần lớn hơn {gt}.", "Must be greater than {gt}."),
        "v.less_than": ("Cần nhỏ hơn {lt}.", "Must be less than {lt}."),
        "v.too_long": ("Tối đa {max_length} phần tử.", "At most {max_length} items."),
        "v.too_short": ("Cần ít nhất {min_length} phần tử.", "At least {min_length} items."),
        "v.datetime_parsing": ("Cần là thời điểm ISO 8601.", "Must be an ISO 8601 date-time."),
        "v.datetime_from_date_parsing": ("Cần là thời điểm ISO 8601.", "Must be an ISO 8601 date-time."),
        "v.time_out_of_range": ("Thời điểm nằm ngoài khoảng cho phép.", "The time is out of range."),
        "v.date_parsing": ("Cần là ngày dạng YYYY-MM-DD.", "Must be a date (YYYY-MM-DD)."),
        "v.date_from_datetime_parsing": ("Cần là ngày dạng YYYY-MM-DD.", "Must be a date (YYYY-MM-DD)."),
        "v.value_error": ("Giá trị không hợp lệ: {error}", "Invalid value: {error}"),
        "v.json_invalid": ("JSON không hợp lệ.", "Invalid JSON."),
        "v.model_attributes_type": ("Cần là một đối tượng JSON.", "Must be a JSON object."),
        "v.dict_type": ("Cần là một đối tượng JSON.", "Must be a JSON object."),
        "v.list_type": ("Cần là một danh sách.", "Must be a list."),
        "v.extra_forbidden": ("Trường không được hỗ trợ.", "Unknown field."),
        "v.invalid": ("Giá trị không hợp lệ.", "Invalid value."),
    }
)
