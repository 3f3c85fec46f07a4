"""Vietnamese-aware text folding for accent-insensitive search and answer matching."""

from text_unidecode import unidecode


def search_key(*parts: str | None) -> str:
    """Lower-case ASCII, single spaces: `Kỹ năng số` → `ky nang so`; `Đ`/`đ` → `d` (which NFD keeps whole)."""
    return " ".join(" ".join(unidecode(p).lower().split()) for p in parts if p).strip()


# C0 controls and DEL; tab, line feed and carriage return are ordinary in free text (descriptions, answers).
_CONTROLS = {c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {0x7F}
_ANY_CONTROL = _CONTROLS | {0x09, 0x0A, 0x0D}


def has_control_characters(value: str, *, allow_whitespace: bool = False) -> bool:
    """Whether the text holds a control character (NUL above all: PostgreSQL cannot store it in text or jsonb)."""
    banned = _CONTROLS if allow_whitespace else _ANY_CONTROL
    return any(ord(ch) in banned for ch in value)
