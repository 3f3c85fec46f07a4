"""How people type their details: each rule normalises or rejects one field, and the field types built on them
(phone, e-mail, name, agency, new password, province code). A rule raises PydanticCustomError whose type is a
message key below, so a 422 speaks the caller's language."""

import unicodedata
from pathlib import Path
from typing import Annotated

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator
from pydantic import Field as SchemaField
from pydantic_core import PydanticCustomError

from app.core.i18n import messages

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128  # bounds the hashing work one request can ask for
_COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "common-passwords.txt"
_COMMON_PASSWORDS = frozenset(
    line.strip() for line in _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}

messages({
    "phone_invalid": ("Số điện thoại di động Việt Nam không hợp lệ.",
                      "Not a valid Vietnamese mobile number."),
    "email_invalid": ("Địa chỉ email không hợp lệ.", "Not a valid e-mail address."),
    "name_blank": ("Họ và tên không được để trống.", "The full name must not be blank."),
    "password_too_short": ("Mật khẩu cần ít nhất {min_length} ký tự.",
                           "The password needs at least {min_length} characters."),
    "password_too_long": ("Mật khẩu dài tối đa {max_length} ký tự.",
                          "The password can have at most {max_length} characters."),
    "password_too_common": ("Mật khẩu này quá phổ biến nên dễ bị đoán; hãy chọn mật khẩu khác.",
                            "This password is too common and easy to guess; choose another one."),
})


def normalise_phone(raw: str) -> str:
    """A Vietnamese mobile number in any usual form (`0912 345 678`, `+84 912345678`, `84912345678`),
    as E.164 (`+84912345678`)."""
    try:
        number = phonenumbers.parse(raw[:40], "VN")
    except phonenumbers.NumberParseException:
        raise PydanticCustomError("phone_invalid", "Not a valid Vietnamese mobile number") from None
    if not (phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "VN"
            and phonenumbers.number_type(number) in _MOBILE_TYPES):
        raise PydanticCustomError("phone_invalid", "Not a valid Vietnamese mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """A syntactically valid address, NFC and lower-cased (nobody means `An@X.vn` and `an@x.vn` apart)."""
    try:
        address = validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise PydanticCustomError("email_invalid", "Not a valid e-mail address") from None
    return unicodedata.normalize("NFC", address).lower()


def normalise_text(raw: str) -> str:
    """NFC with runs of whitespace collapsed to one space, so the same words are stored the same way."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def normalise_name(raw: str) -> str:
    name = normalise_text(raw)
    if not name:
        raise PydanticCustomError("name_blank", "The full name must not be blank")
    return name


def normalise_password(raw: str) -> str:
    """NFKC, so the same Vietnamese password typed on different keyboards (composed or not) still matches."""
    return unicodedata.normalize("NFKC", raw)


def check_new_password(raw: str) -> str:
    """At least 8 characters and not one of the most used passwords; returned normalised, ready to hash."""
    password = normalise_password(raw)
    if len(password) < PASSWORD_MIN_LENGTH:
        raise PydanticCustomError("password_too_short", "Too short", {"min_length": PASSWORD_MIN_LENGTH})
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PydanticCustomError("password_too_long", "Too long", {"max_length": PASSWORD_MAX_LENGTH})
    if password.lower() in _COMMON_PASSWORDS:
        raise PydanticCustomError("password_too_common", "Too common")
    return password


PhoneNumber = Annotated[str, SchemaField(max_length=40), AfterValidator(normalise_phone)]
EmailAddress = Annotated[str, SchemaField(max_length=254), AfterValidator(normalise_email)]
PersonName = Annotated[str, SchemaField(max_length=200), AfterValidator(normalise_name)]
AgencyName = Annotated[str, SchemaField(max_length=200), AfterValidator(normalise_text)]
# The documented limit is the enforced one (the schema said 512 while 128 was enforced after normalising).
NewPassword = Annotated[str, SchemaField(max_length=PASSWORD_MAX_LENGTH), AfterValidator(check_new_password)]
ProvinceCode = Annotated[str, SchemaField(min_length=2, max_length=2)]
