"""What the LMS recomputes from a SCO's values, session times, and each lesson's completion rule."""

import pytest

from app.services.scorm.status import (
    ScoParameters,
    attempt_ends,
    duration_2004,
    recompute,
    rule_met,
    seconds,
    session_seconds,
    timespan_12,
)

V12 = ScoParameters("1.2", mastery_score=80)
V2004 = ScoParameters("2004", completion_threshold=0.75, scaled_passing_score=0.6,
                      completion_rule="completed_and_passed")


@pytest.mark.parametrize(("status", "raw", "expected"), [
    ("completed", "85", "passed"), ("completed", "79.9", "failed"), ("incomplete", "80", "passed"),
    ("passed", "10", "failed"), ("completed", None, "completed"), ("browsed", "95", "browsed"),
])
def test_12_mastery_score_decides_passed_or_failed(status, raw, expected):
    values = {"cmi.core.lesson_status": status}
    if raw is not None:
        values["cmi.core.score.raw"] = raw
    assert recompute(V12, values).lesson_status == expected


def test_12_without_mastery_keeps_the_reported_status_and_no_credit_skips_mastery():
    values = {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "10"}
    assert recompute(ScoParameters("1.2"), values).lesson_status == "completed"
    assert recompute(V12, values, credit=False).lesson_status == "completed"


def test_12_statuses_map_to_completion_and_success():
    result = recompute(V12, {"cmi.core.lesson_status": "failed", "cmi.core.score.raw": "40",
                             "cmi.core.score.max": "50"})
    assert (result.completion_status, result.success_status, result.score_scaled) == ("completed", "failed", 0.8)
    assert recompute(V12, {}).completion_status == "not attempted"


@pytest.mark.parametrize(("values", "completion", "success"), [
    ({"cmi.progress_measure": "0.8", "cmi.completion_status": "incomplete"}, "completed", "unknown"),
    ({"cmi.progress_measure": "0.5", "cmi.completion_status": "completed"}, "incomplete", "unknown"),
    ({"cmi.completion_status": "completed"}, "completed", "unknown"),
    ({"cmi.score.scaled": "0.6", "cmi.success_status": "failed"}, "unknown", "passed"),
    ({"cmi.score.scaled": "0.59", "cmi.success_status": "passed"}, "unknown", "failed"),
    ({"cmi.success_status": "passed"}, "unknown", "unknown"),  # a passing score and no scaled score
])
def test_2004_threshold_and_passing_score_override_what_the_sco_says(values, completion, success):
    result = recompute(V2004, values)
    assert (result.completion_status, result.success_status) == (completion, success)


def test_2004_without_threshold_or_passing_score_trusts_the_sco():
    result = recompute(ScoParameters("2004"), {"cmi.completion_status": "completed", "cmi.success_status": "passed",
                                               "cmi.progress_measure": "0.1", "cmi.score.scaled": "0.1"})
    assert (result.completion_status, result.success_status) == ("completed", "passed")


def test_rules():
    done = recompute(ScoParameters("2004"), {"cmi.completion_status": "completed"})
    passed = recompute(ScoParameters("2004"), {"cmi.success_status": "passed"})
    both = recompute(ScoParameters("2004"), {"cmi.completion_status": "completed", "cmi.success_status": "passed"})
    assert [rule_met(r, done) for r in ("completed", "passed", "completed_or_passed", "completed_and_passed")] \
        == [True, False, True, False]
    assert [rule_met(r, passed) for r in ("completed", "passed", "completed_or_passed", "completed_and_passed")] \
        == [False, True, True, False]
    assert rule_met("completed_and_passed", both)


def test_times():
    assert seconds("0001:02:03.50") == 3723.5
    assert seconds("PT1H2M3.5S") == 3723.5
    assert seconds("P1DT1S") == 86401
    assert seconds("garbage") == 0 and seconds(None) == 0
    # the forms scorm-again accepts: hours of one digit, weeks, fractions of any unit, a comma for the point
    assert seconds("0:05:07.25") == 307.25
    assert seconds("P1WT0.5H") == 606_600 and seconds("PT1,5M") == 90
    assert seconds("PT") == 0 and seconds("P1..5D") == 0
    assert duration_2004(3723.5) == "PT1H2M3.50S" and duration_2004(60) == "PT0H1M0S"
    assert timespan_12(3723.5) == "0001:02:03.50"
    assert session_seconds("1.2", {"cmi.core.session_time": "00:01:00"}) == 60
    assert session_seconds("2004", {"cmi.session_time": "PT90S"}) == 90


@pytest.mark.parametrize(("exit_value", "ends"), [(None, True), ("normal", True), ("logout", True),
                                                  ("time-out", True), ("suspend", False)])
def test_a_2004_terminate_ends_the_attempt_unless_it_suspends(exit_value, ends):
    assert attempt_ends("2004", exit_value, 10, None, None) is ends


@pytest.mark.parametrize(("exit_value", "action", "ends"), [
    (None, None, False), ("logout", "exit,message", False), ("suspend", None, False),
    ("time-out", "continue,no message", False), ("time-out", None, False),
    ("time-out", "exit,message", True), ("time-out", "exit,no message", True),
])
def test_a_12_exit_ends_the_attempt_only_on_time_out_with_an_exit_action(exit_value, action, ends):
    assert attempt_ends("1.2", exit_value, 10, None, action) is ends


@pytest.mark.parametrize(("family", "limit"), [("1.2", "0000:01:00"), ("1.2", "0:01:00"), ("2004", "PT1M")])
def test_time_spent_up_to_the_limit_with_an_exit_action_ends_even_a_suspended_attempt(family, limit):
    assert attempt_ends(family, "suspend", 60, limit, "exit,no message")
    assert not attempt_ends(family, "suspend", 59, limit, "exit,no message")
    assert not attempt_ends(family, "suspend", 600, limit, "continue,message")  # the SCO carries on
