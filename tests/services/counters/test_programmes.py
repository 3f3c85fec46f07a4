"""Progress towards a target reads the same in every stats answer, and early progress never shows as 0.0."""

import pytest

from app.services.counters.programmes import progress_towards


@pytest.mark.parametrize(("done", "target", "percent"), [
    (22, 10_000_000, 0.00022),  # 22 citizen completions of the national 10,000,000
    (1, 10_000_000, 0.00001),
    (1234, 10_000_000, 0.0123),
    (1, 10_000, 0.01),
    (8123, 10_000, 81.23),
    (4_200_311, 10_000_000, 42.0),
    (12_345, 10_000, 123.45),
    (0, 10_000_000, 0.0),
])
def test_percent_has_two_decimals_or_three_significant_figures_below_one(done, target, percent):
    figures = progress_towards(done, target)
    assert figures["percent_of_target"] == percent
    assert figures["ratio_of_target"] == done / target


def test_no_target_no_figures():
    assert progress_towards(5, None) == {"percent_of_target": None, "ratio_of_target": None}
    assert progress_towards(5, 0) == {"percent_of_target": None, "ratio_of_target": None}
