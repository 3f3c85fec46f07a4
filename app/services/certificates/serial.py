"""Certificate serials: `HS-2026-7K3Q-9XW2-M`, the issue year, 8 random characters and a check character.

- Alphabet: digits 2-9 and capital letters without I, L, O, U (30 symbols) — nothing that reads as another
  symbol (0/O, 1/I/L) when typed from paper, and no accidental words through U.
- Random part: 8 symbols from `secrets` (30^8 ≈ 6.6·10^11, ~39 bits). At 10 million certificates a guess hits
  one with probability ~1.5·10^-5, and verification is rate-limited per client IP: no enumeration.
- Check character: Luhn mod 30 over the random part: every single mistyped character and almost every swap of
  two neighbours is caught before the database is asked.
"""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 8
PREFIX = "HS"
_N = len(ALPHABET)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_COMPACT = re.compile(rf"^{PREFIX}(\d{{4}})([{ALPHABET}]{{{RANDOM_LENGTH}}})([{ALPHABET}])$")


def check_character(payload: str) -> str:
    """The Luhn mod N check character for `payload` (symbols from ALPHABET)."""
    factor, total = 2, 0
    for char in reversed(payload):
        addend = factor * _VALUE[char]
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def has_valid_check(payload_and_check: str) -> bool:
    return check_character(payload_and_check[:-1]) == payload_and_check[-1]


def format_serial(year: int, random_part: str) -> str:
    return f"{PREFIX}-{year:04d}-{random_part[:4]}-{random_part[4:]}-{check_character(random_part)}"


def new_serial(year: int) -> str:
    """A fresh random serial for a certificate issued in `year` (uniqueness is the database's job)."""
    return format_serial(year, "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH)))


def normalise_serial(text: str) -> str | None:
    """The canonical serial for what a person typed (any case, spaces or hyphens anywhere), or None when it
    cannot be a serial at all, including a wrong check character."""
    compact = re.sub(r"[\s\-–]", "", text or "").upper()
    if len(compact) > 32:
        return None
    match = _COMPACT.match(compact)
    if not match:
        return None
    year, random_part, check = match.groups()
    if not has_valid_check(random_part + check):
        return None
    return format_serial(int(year), random_part)
