"""Vietnamese-aware text folding for accent-insensitive search and answer matching."""

from text_unidecode import unidecode


def search_key(*parts: str | None) -> str:
    """Lower-case ASCII, single spaces: `Kỹ năng số` → `ky nang so`; `Đ`/`đ` → `d` (which NFD keeps whole)."""
    return " ".join(" ".join(unidecode(p).lower().split()) for p in parts if p).strip()
