"""Numbers as people type them: Vietnamese writes 3,14 for 3.14 and 1.822,5 for 1822.5."""

import math
import re

_DIGITS = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{3})+$")


def parse_number(raw: str) -> float | None:
    """The number in `raw`, or None. A lone comma is a decimal comma (`3,14`); with both marks the last one is
    the decimal separator (`1.822,5`, `1,822.5`); repeated marks in groups of three separate thousands
    (`1.000.000`); spaces are ignored. A lone dot stays a decimal point (`3.14`), as in Moodle."""
    text = "".join(raw.split()).replace("\u2212", "-")  # U+2212 is the typographic minus sign
    if not text:
        return None
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        if text.count(decimal) > 1:
            return None
        whole, _, fraction = text.partition(decimal)
        if not _GROUPED.match(whole) and thousands in whole:
            return None
        text = whole.replace(thousands, "") + "." + fraction
    elif commas > 1 or dots > 1:
        if not _GROUPED.match(text):
            return None
        text = text.replace(",", "").replace(".", "")
    elif commas == 1:
        text = text.replace(",", ".")
    if not _DIGITS.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None
