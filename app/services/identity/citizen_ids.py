"""Vietnamese citizen identity numbers (số định danh cá nhân / CCCD): checked for shape, kept only as a keyed
hash.

The 12 digits are: the 3-digit code of the province where the birth was registered (the 63 pre-2025 units, 001
Hà Nội … 096 Cà Mau), a digit for sex and century of birth (0/1: 1900s, 2/3: 2000s, 4/5: 2100s …), the last
two digits of the birth year, and 6 random digits. Checking the structure catches typos and swapped columns in
partner files without ever storing the number: only an HMAC under the service secret is kept, which still lets
the same person be found again.
"""

from collections.abc import Collection
from datetime import date

from app.core.i18n import messages
from app.core.security import keyed_hash

HASH_PURPOSE = "national_id"

messages({
    "national_id_invalid": (
        "Số định danh cá nhân (CCCD) phải gồm 12 chữ số: mã tỉnh nơi đăng ký khai sinh, mã thế kỷ và giới "
        "tính, năm sinh và 6 số ngẫu nhiên.",
        "A citizen identity number has 12 digits: birth-registration province code, century-and-sex digit, "
        "year of birth and 6 random digits.",
    ),
})


def is_citizen_id(raw: str, province_codes: Collection[str], today: date) -> bool:
    """Whether `raw` (spaces and dots ignored) is a well-formed 12-digit citizen identity number."""
    digits = clean(raw)
    if len(digits) != 12 or not digits.isdigit():
        return False
    if digits[0] != "0" or digits[1:3] not in province_codes:
        return False
    born = 1900 + int(digits[3]) // 2 * 100 + int(digits[4:6])
    return born <= today.year


def clean(raw: str) -> str:
    """The digits as typed, without the spaces or dots people group them with."""
    return raw.replace(" ", "").replace(".", "").strip()


def hash_citizen_id(secret_key: str, number: str) -> str:
    """The only form in which a citizen identity number is stored or compared."""
    return keyed_hash(secret_key, HASH_PURPOSE, clean(number))
