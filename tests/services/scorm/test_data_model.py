"""Each written CMI element checked against its version's data model; read-only and empty ones dropped."""

import pytest

from app.services.scorm.data_model import (
    SUSPEND_DATA_MAX,
    normal_timespan_12,
    pattern_of,
    timespan_12_seconds,
    validate_values,
)
from app.services.scorm.status import seconds


def problems(family, values):
    accepted, errors = validate_values(family, values)
    return accepted, [(e["field"], e["message"]) for e in errors]


def test_pattern_of_indexes():
    assert pattern_of("cmi.interactions.12.objectives.3.id") == ("cmi.interactions.n.objectives.n.id", 12)
    assert pattern_of("cmi.core.lesson_status") == ("cmi.core.lesson_status", 0)


def test_scorm_12_valid_values_are_kept():
    values = {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "85.5", "cmi.core.lesson_location": "p3",
              "cmi.core.session_time": "0000:02:30.00", "cmi.core.exit": "suspend",
              "cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "choice",
              "cmi.interactions.0.result": "wrong", "cmi.interactions.0.latency": "00:00:12",
              "cmi.interactions.0.time": "13:45:00", "cmi.objectives.0.id": "obj1", "cmi.objectives.0.status": "passed"}
    assert problems("1.2", values) == (values, [])


def test_read_only_and_empty_elements_are_dropped():
    accepted, errors = problems("1.2", {"cmi.core.student_id": "someone-else", "cmi.core.total_time": "9999:00:00",
                                        "cmi.interactions._count": "3", "cmi.core.exit": "",
                                        "cmi.core.lesson_status": "incomplete"})
    assert accepted == {"cmi.core.lesson_status": "incomplete"} and errors == []


@pytest.mark.parametrize(("family", "name", "value", "message"), [
    ("1.2", "cmi.core.lesson_status", "done", "scorm_bad_vocabulary"),
    ("1.2", "cmi.core.lesson_status", "not attempted", "scorm_bad_vocabulary"),
    ("1.2", "cmi.core.score.raw", "101", "scorm_bad_type"),
    ("1.2", "cmi.core.score.raw", "eighty", "scorm_bad_type"),
    ("1.2", "cmi.core.session_time", "PT2M", "scorm_bad_type"),
    ("1.2", "cmi.core.lesson_location", "x" * 256, "scorm_too_long"),
    ("1.2", "cmi.interactions.0.type", "long-fill-in", "scorm_bad_vocabulary"),
    ("1.2", "cmi.interactions.0.id", "câu-1", "scorm_bad_type"),
    ("1.2", "cmi.core.score.raw", "-", "scorm_bad_type"),
    ("1.2", "cmi.location", "p1", "scorm_unknown_element"),
    ("1.2", "cmi.interactions.501.id", "q", "scorm_index_too_large"),
    ("2004", "cmi.completion_status", "passed", "scorm_bad_vocabulary"),
    ("2004", "cmi.success_status", "completed", "scorm_bad_vocabulary"),
    ("2004", "cmi.score.scaled", "1.5", "scorm_bad_type"),
    ("2004", "cmi.progress_measure", "-0.1", "scorm_bad_type"),
    ("2004", "cmi.session_time", "0000:02:30", "scorm_bad_type"),
    ("2004", "cmi.session_time", "PT1H2M3.456S", "scorm_bad_type"),
    ("2004", "cmi.score.raw", "1.1234567890123456789", "scorm_bad_type"),
    ("2004", "cmi.interactions.0.timestamp", "2026-12-03T19:00:00.1234567Z", "scorm_bad_type"),
    ("2004", "cmi.objectives.0.id", "line\nbreak", "scorm_bad_type"),
    ("2004", "cmi.location", "x" * 1001, "scorm_too_long"),
    ("2004", "cmi.interactions.0.result", "wrong", "scorm_bad_type"),
    ("2004", "cmi.core.lesson_status", "passed", "scorm_unknown_element"),
])
def test_bad_values_are_named(family, name, value, message):
    accepted, errors = problems(family, {name: value})
    assert accepted == {} and errors == [(f"values.{name}", message)]


def test_2004_valid_values_are_kept():
    values = {"cmi.completion_status": "completed", "cmi.success_status": "passed", "cmi.score.scaled": "-0.5",
              "cmi.session_time": "PT1H2M3.5S", "cmi.progress_measure": "1", "cmi.location": "slide-9",
              "cmi.interactions.0.id": "urn:q:1 with spaces allowed", "cmi.interactions.0.type": "long-fill-in",
              "cmi.interactions.0.result": "0.5", "cmi.interactions.0.timestamp": "2026-12-03T19:00:00.5Z",
              "cmi.objectives.0.id": "o1", "cmi.objectives.0.success_status": "failed",
              "adl.nav.request": "continue"}
    assert problems("2004", values) == (values, [])


@pytest.mark.parametrize("family", ["1.2", "2004"])
def test_suspend_data_up_to_64000_characters_for_both_versions(family):
    assert problems(family, {"cmi.suspend_data": "x" * SUSPEND_DATA_MAX})[1] == []
    assert problems(family, {"cmi.suspend_data": "x" * (SUSPEND_DATA_MAX + 1)})[1] == [
        ("values.cmi.suspend_data", "scorm_too_long")]


@pytest.mark.parametrize(("family", "name", "value"), [
    # Values scorm-again 3.4.3 accepts in the browser: refusing one on the server would refuse every later commit.
    ("1.2", "cmi.core.score.raw", "66.66666666666667"),
    ("1.2", "cmi.core.score.raw", ".5"),
    ("1.2", "cmi.objectives.0.score.raw", "33.333333333333336"),
    ("1.2", "cmi.interactions.0.id", "question one"),
    ("1.2", "cmi.objectives.0.id", "Chapter 1 / Quiz"),
    ("1.2", "cmi.core.session_time", "0:05:07.25"),
    ("1.2", "cmi.interactions.0.result", "0.33333333333"),
    ("2004", "cmi.score.scaled", "0.6666666666666666"),
    ("2004", "cmi.progress_measure", "0.30000000000000004"),
    ("2004", "cmi.session_time", "PT"),
    ("2004", "cmi.session_time", "P1W2DT0.5H"),
    ("2004", "cmi.interactions.0.timestamp", "2026-12-03T19:00:00.123Z"),
    ("2004", "cmi.interactions.0.id", " leading space"),
])
def test_values_the_browser_runtime_accepts_are_accepted(family, name, value):
    assert problems(family, {name: value}) == ({name: value}, [])


@pytest.mark.parametrize(("value", "normal", "secs"), [
    ("1:00:00", "0001:00:00", 3600),  # one-digit hours, as real packages write them
    ("00:30:00.0", "0000:30:00.0", 1800),
    ("0000:30:00", "0000:30:00", 1800),
    ("10:05:07.25", "0010:05:07.25", 36307.25),
    ("9999:59:59.99", "9999:59:59.99", 35999999.99),
])
def test_a_12_time_span_is_read_by_one_parser_for_import_and_runtime(value, normal, secs):
    assert normal_timespan_12(value) == normal
    assert timespan_12_seconds(value) == secs == seconds(value)  # the runtime's time sums read the same
    assert validate_values("1.2", {"cmi.core.session_time": value})[0] == {"cmi.core.session_time": value}


@pytest.mark.parametrize("value", ["1:0:00", "01:00", "abc", "PT1H", "00:30:00.123", "00:60:00", "00:00:60",
                                   "10000:00:00", " 1:00:00x", "-1:00:00"])
def test_a_manifest_time_span_outside_cmitimespan_is_refused(value):
    assert normal_timespan_12(value) is None
