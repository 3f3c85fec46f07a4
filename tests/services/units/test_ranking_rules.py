"""The ranking rule alone: rate with ties by count, count with ties by rate, shared ranks, the minimum headcount."""

from app.models.units import UnitRate
from app.services.units.rates import figures, rank


def unit(code: str, headcount: int | None, completed: int) -> UnitRate:
    return UnitRate(code=code, name=f"Đơn vị {code}", province_code="19", headcount=headcount,
                    completed=completed, **figures(completed, headcount))


def board() -> list[UnitRate]:
    return [unit("A", 10, 9), unit("B", 20, 18), unit("C", 10, 9), unit("D", 40, 10), unit("E", 5, 5),
            unit("F", None, 3), unit("G", 12, 0)]


def ranks(items: list[UnitRate]) -> list[tuple[str, int | None]]:
    return [(i.code, i.rank) for i in items]


def test_by_rate_ties_are_broken_by_count_and_exact_ties_share_a_rank():
    assert ranks(rank(board(), "rate", 10)) == [
        ("B", 1),  # 90% of 20 beats 90% of 10
        ("A", 2), ("C", 2),  # same rate, same count: one rank, then the next skips
        ("D", 4), ("G", 5),
        ("E", None), ("F", None),  # under the minimum headcount, and no headcount: listed, not ranked
    ]


def test_by_count_ties_are_broken_by_rate():
    items = [unit("A", 10, 9), unit("B", 90, 9), unit("C", 10, 4), unit("D", 10, 4)]
    assert ranks(rank(items, "count", 10)) == [("A", 1), ("B", 2), ("C", 3), ("D", 3)]


def test_the_minimum_headcount_is_inclusive_and_can_be_lowered():
    assert ("E", None) in ranks(rank(board(), "rate", 6))
    assert ranks(rank(board(), "rate", 5))[0] == ("E", 1)  # 5 of 5 is 100%


def test_rates_compare_exactly_not_as_rounded_floats():
    # 1/3 and 333/1000 round alike to 4 decimals but differ; 2/6 equals 1/3 and ties on rate.
    items = [unit("P", 1000, 333), unit("Q", 30, 10), unit("R", 60, 20)]
    assert ranks(rank(items, "rate", 10)) == [("R", 1), ("Q", 2), ("P", 3)]


def test_percent_is_rounded_half_up_to_one_decimal():
    assert figures(375, 409) == {"completion_rate": 0.9169, "completion_percent": 91.7}
    assert figures(1, 8) == {"completion_rate": 0.125, "completion_percent": 12.5}
    assert figures(1, 16)["completion_percent"] == 6.3  # 6.25 up, not to even
    assert figures(3, None) == {"completion_rate": None, "completion_percent": None}
