"""Numbers typed the Vietnamese way or the English way."""

import pytest

from app.core.numbers import parse_number


@pytest.mark.parametrize(("raw", "value"), [
    ("3,1415", 3.1415), ("3.1415", 3.1415), (" -5 ", -5), ("1.822,5", 1822.5), ("1,822.5", 1822.5),
    ("1.000.000", 1_000_000), ("1 000 000", 1_000_000), ("\u22122,5", -2.5), ("1e3", 1000), (".5", 0.5),
    ("1,822", 1.822),  # a lone comma is a decimal comma
])
def test_understood(raw, value):
    assert parse_number(raw) == pytest.approx(value)


@pytest.mark.parametrize("raw", ["", "abc", "1,2,3", "1.2.3", "1,2.3,4", "1822 năm", "nan", "inf", "1e999"])
def test_refused(raw):
    assert parse_number(raw) is None
