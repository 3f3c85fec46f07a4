"""The CMI data model a SCO writes through `SetValue`, checked on the server for each version: which elements
exist, which the SCO may write, their vocabularies, types and lengths.

Commits arrive flattened (`{"cmi.core.lesson_status": "passed", "cmi.interactions.0.id": "q1", …}`). The
browser-side runtime already refuses bad values, but the server cannot trust the browser: every written element
is validated again here. Read-only elements the runtime echoes back (`cmi.core.student_id`, `_count`, …) are
dropped, since the server decides them. An empty string means "not set" and is dropped too.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import FieldError
from app.core.i18n import messages

messages({
    "scorm_unknown_element": ("“{name}” không thuộc mô hình dữ liệu SCORM {version}.",
                              "“{name}” is not an element of the SCORM {version} data model."),
    "scorm_bad_vocabulary": ("“{name}” phải là một trong: {allowed}.", "“{name}” must be one of: {allowed}."),
    "scorm_too_long": ("“{name}” dài quá {limit} ký tự.", "“{name}” is longer than {limit} characters."),
    "scorm_bad_type": ("“{name}” phải là {expected}.", "“{name}” must be {expected}."),
    "scorm_index_too_large": ("Chỉ số của “{name}” vượt quá {limit}.", "The index in “{name}” exceeds {limit}."),
})

SUSPEND_DATA_MAX = 64_000  # SCORM 2004's limit, accepted for 1.2 too: real 1.2 content overflows 4,096
SUSPEND_DATA_12_SPEC = 4_096
MAX_INDEX = 500  # interactions / objectives per attempt: far above real content, bounded for storage

# The types as the vendored runtime (scorm-again 3.4.3, `scorm12.min.js` / `scorm2004.min.js` regular
# expressions CMIDecimal, CMIIdentifier, CMITimespan, CMITime …) accepts them: the server must never refuse a
# value the browser already took, or every later commit (which resends the whole CMI) is refused with it.
DECIMAL_12 = re.compile(r"^-?[0-9]{0,10}(\.[0-9]*)?$")  # any number of decimals: 1.2 scores are JS numbers
DECIMAL_2004 = re.compile(r"^-?[0-9]{1,10}(\.[0-9]{1,18})?$")  # real(10,7): at least 7 digits, 18 here
# SCORM 1.2 CMITimespan, the one parser of it (runtime values, `adlcp:maxtimeallowed` at import, time sums): as
# scorm-again takes it, hours of any number of digits (the specification's HHHH is 2 to 4; real packages write
# `1:00:00`), two-digit minutes and seconds, one or two decimals of a second.
TIMESPAN_12 = re.compile(r"^(\d+):(\d{2}):(\d{2}(?:\.\d{1,2})?)$")
_TIME_12 = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,2})?$")
# ISO 8601 durations with weeks and fractional parts, as scorm-again allows them.
DURATION = re.compile(r"^P(?:([.,\d]+)Y)?(?:([.,\d]+)M)?(?:([.,\d]+)W)?(?:([.,\d]+)D)?"
                      r"(?:T?(?:([.,\d]+)H)?(?:([.,\d]+)M)?(?:(\d+(?:\.\d{1,2})?)S)?)?$")
_TIMESTAMP = re.compile(r"^(19[7-9]\d|[2-9]\d{3})((-(0[1-9]|1[0-2]))((-(0[1-9]|[12]\d|3[01]))"
                        r"(T([01]\d|2[0-3])((:[0-5]\d)((:[0-5]\d)((\.\d{1,6})((Z|([+-]([01]\d|2[0-3])))"
                        r"(:[0-5]\d)?)?)?)?)?)?)?)?$")
_IDENTIFIER_12 = re.compile(r"^[\x21-\x7e\s]{1,255}$")  # printable ASCII; spaces too, as scorm-again takes them
_LONG_IDENTIFIER_2004 = re.compile(r"^.{1,4000}$")  # scorm-again's CMILongIdentifier ends in `.{1,4000}`


@dataclass(frozen=True)
class Element:
    check: Callable[[str], str | None]  # None when fine, else the message key's "expected" text
    vocabulary: tuple[str, ...] = ()
    limit: int | None = None


def _text(limit: int) -> Element:
    return Element(lambda v: None, limit=limit)


def _vocab(*words: str) -> Element:
    return Element(lambda v: None, vocabulary=words)


def _number(regex: re.Pattern, value: str) -> float | None:
    """The value as a number when it has the version's decimal form; "-" or "." match the form yet are none."""
    if not regex.fullmatch(value):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _decimal(low: float | None = None, high: float | None = None, *, regex: re.Pattern = DECIMAL_2004) -> Element:
    def check(value: str) -> str | None:
        number = _number(regex, value)
        if number is None:
            return "a number"
        if (low is not None and number < low) or (high is not None and number > high):
            return f"a number from {low if low is not None else '-∞'} to {high if high is not None else '∞'}"
        return None
    return Element(check)


def _pattern(regex: re.Pattern, expected: str, limit: int | None = None) -> Element:
    return Element(lambda v: None if regex.fullmatch(v) else expected, limit=limit)


def _result(words: tuple[str, ...], regex: re.Pattern) -> Element:
    return Element(lambda v: None if v in words or _number(regex, v) is not None
                   else f"one of {', '.join(words)} or a number")


def _decimal_12(low: float | None = None, high: float | None = None) -> Element:
    return _decimal(low, high, regex=DECIMAL_12)


_STATUS_12 = ("passed", "completed", "failed", "incomplete", "browsed")
_INTERACTION_TYPES_12 = ("true-false", "choice", "fill-in", "matching", "performance", "sequencing", "likert",
                         "numeric")
SCORM_12: dict[str, Element] = {
    "cmi.core.lesson_location": _text(255),
    "cmi.core.lesson_status": _vocab(*_STATUS_12),
    "cmi.core.score.raw": _decimal_12(0, 100),
    "cmi.core.score.min": _decimal_12(0, 100),
    "cmi.core.score.max": _decimal_12(0, 100),
    "cmi.core.exit": _vocab("time-out", "suspend", "logout"),
    "cmi.core.session_time": _pattern(TIMESPAN_12, "a time span HHHH:MM:SS.SS"),
    "cmi.suspend_data": _text(SUSPEND_DATA_MAX),
    "cmi.comments": _text(4096),
    "cmi.student_preference.audio": _decimal_12(-1, 100),
    "cmi.student_preference.language": _text(255),
    "cmi.student_preference.speed": _decimal_12(-100, 100),
    "cmi.student_preference.text": _vocab("-1", "0", "1"),
    "cmi.objectives.n.id": _pattern(_IDENTIFIER_12, "an identifier (printable characters, ≤ 255)"),
    "cmi.objectives.n.score.raw": _decimal_12(0, 100),
    "cmi.objectives.n.score.min": _decimal_12(0, 100),
    "cmi.objectives.n.score.max": _decimal_12(0, 100),
    "cmi.objectives.n.status": _vocab(*_STATUS_12, "not attempted"),
    "cmi.interactions.n.id": _pattern(_IDENTIFIER_12, "an identifier (printable characters, ≤ 255)"),
    "cmi.interactions.n.objectives.n.id": _pattern(_IDENTIFIER_12, "an identifier (printable characters, ≤ 255)"),
    "cmi.interactions.n.time": _pattern(_TIME_12, "a time HH:MM:SS"),
    "cmi.interactions.n.type": _vocab(*_INTERACTION_TYPES_12),
    "cmi.interactions.n.correct_responses.n.pattern": _text(255),
    "cmi.interactions.n.weighting": _decimal_12(),
    "cmi.interactions.n.student_response": _text(255),
    "cmi.interactions.n.result": _result(("correct", "wrong", "unanticipated", "neutral"), DECIMAL_12),
    "cmi.interactions.n.latency": _pattern(TIMESPAN_12, "a time span HHHH:MM:SS.SS"),
}
READ_ONLY_12 = {"cmi.core.student_id", "cmi.core.student_name", "cmi.core.credit", "cmi.core.entry",
                "cmi.core.total_time", "cmi.core.lesson_mode", "cmi.launch_data", "cmi.comments_from_lms",
                "cmi.student_data.mastery_score", "cmi.student_data.max_time_allowed",
                "cmi.student_data.time_limit_action", "cmi.objectives.n.score._children",
                "cmi.interactions.n.objectives._count", "cmi.interactions.n.correct_responses._count"}

_COMPLETION = ("completed", "incomplete", "not attempted", "unknown")
_SUCCESS = ("passed", "failed", "unknown")
_INTERACTION_TYPES = ("true-false", "choice", "fill-in", "long-fill-in", "likert", "matching", "performance",
                      "sequencing", "numeric", "other")
_LONG_ID = _pattern(_LONG_IDENTIFIER_2004, "an identifier (one line, ≤ 4,000 characters)")
SCORM_2004: dict[str, Element] = {
    "cmi.location": _text(1000),
    "cmi.completion_status": _vocab(*_COMPLETION),
    "cmi.success_status": _vocab(*_SUCCESS),
    "cmi.exit": _vocab("time-out", "suspend", "logout", "normal"),
    "cmi.session_time": _pattern(DURATION, "an ISO 8601 duration (PT1H2M3S)"),
    "cmi.suspend_data": _text(SUSPEND_DATA_MAX),
    "cmi.progress_measure": _decimal(0, 1),
    "cmi.score.scaled": _decimal(-1, 1),
    "cmi.score.raw": _decimal(),
    "cmi.score.min": _decimal(),
    "cmi.score.max": _decimal(),
    "cmi.comments_from_learner.n.comment": _text(4000),
    "cmi.comments_from_learner.n.location": _text(250),
    "cmi.comments_from_learner.n.timestamp": _pattern(_TIMESTAMP, "an ISO 8601 time"),
    "cmi.learner_preference.audio_level": _decimal(0),
    "cmi.learner_preference.language": _text(250),
    "cmi.learner_preference.delivery_speed": _decimal(0),
    "cmi.learner_preference.audio_captioning": _vocab("-1", "0", "1"),
    "cmi.objectives.n.id": _LONG_ID,
    "cmi.objectives.n.score.scaled": _decimal(-1, 1),
    "cmi.objectives.n.score.raw": _decimal(),
    "cmi.objectives.n.score.min": _decimal(),
    "cmi.objectives.n.score.max": _decimal(),
    "cmi.objectives.n.success_status": _vocab(*_SUCCESS),
    "cmi.objectives.n.completion_status": _vocab(*_COMPLETION),
    "cmi.objectives.n.progress_measure": _decimal(0, 1),
    "cmi.objectives.n.description": _text(250),
    "cmi.interactions.n.id": _LONG_ID,
    "cmi.interactions.n.type": _vocab(*_INTERACTION_TYPES),
    "cmi.interactions.n.objectives.n.id": _LONG_ID,
    "cmi.interactions.n.timestamp": _pattern(_TIMESTAMP, "an ISO 8601 time"),
    "cmi.interactions.n.correct_responses.n.pattern": _text(4000),
    "cmi.interactions.n.weighting": _decimal(),
    "cmi.interactions.n.learner_response": _text(4000),
    "cmi.interactions.n.result": _result(("correct", "incorrect", "unanticipated", "neutral"), DECIMAL_2004),
    "cmi.interactions.n.latency": _pattern(DURATION, "an ISO 8601 duration (PT1H2M3S)"),
    "cmi.interactions.n.description": _text(250),
    "adl.nav.request": _text(4000),  # accepted and not acted on: HocSo plays items in order
}
READ_ONLY_2004 = {"cmi.learner_id", "cmi.learner_name", "cmi.credit", "cmi.entry", "cmi.total_time", "cmi.mode",
                  "cmi.launch_data", "cmi.completion_threshold", "cmi.scaled_passing_score",
                  "cmi.max_time_allowed", "cmi.time_limit_action", "cmi._version",
                  "cmi.comments_from_lms.n.comment", "cmi.comments_from_lms.n.location",
                  "cmi.comments_from_lms.n.timestamp"}


def timespan_12_seconds(value: str) -> float | None:
    """A 1.2 time span (`0001:30:00`, `1:30:00`, `00:00:05.25`) in seconds; None when it is not one."""
    if not (match := TIMESPAN_12.fullmatch(value)):
        return None
    hours, minutes, secs = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def normal_timespan_12(value: str) -> str | None:
    """A manifest's 1.2 time span within CMITimespan's range (hours of at most 4 digits, minutes and seconds
    below 60) in the specification's form, `1:00:00` → `0001:00:00`, `00:30:00.5` → `0000:30:00.5`; None when
    it is not one (or out of range). The runtime's parser, so what import keeps the runtime reads."""
    if not (match := TIMESPAN_12.fullmatch(value)):
        return None
    hours, minutes, secs = match.groups()
    if int(hours) > 9999 or int(minutes) > 59 or float(secs) >= 60:
        return None
    return f"{int(hours):04d}:{minutes}:{secs}"


def pattern_of(name: str) -> tuple[str, int]:
    """`cmi.interactions.3.objectives.0.id` → (`cmi.interactions.n.objectives.n.id`, largest index 3)."""
    indexes = [int(i) for i in re.findall(r"\.(\d+)(?=\.|$)", name)]
    return re.sub(r"\.\d+(?=\.|$)", ".n", name), max(indexes, default=0)


def validate_values(family: str, values: dict[str, object], field_prefix: str = "values") -> tuple[
        dict[str, str], list[FieldError]]:
    """The elements a SCO may write, validated; read-only and empty ones dropped. Returns (accepted, errors)."""
    model, read_only = (SCORM_12, READ_ONLY_12) if family == "1.2" else (SCORM_2004, READ_ONLY_2004)
    version = "1.2" if family == "1.2" else "2004"
    accepted: dict[str, str] = {}
    errors: list[FieldError] = []
    for name, raw in values.items():
        if isinstance(raw, list | dict) and not raw:
            continue  # an empty collection (`cmi.interactions: []`) as the browser runtime flattens it
        pattern, index = pattern_of(name)
        where = f"{field_prefix}.{name}"[:300]
        if pattern in read_only or pattern.endswith(("._count", "._children", "._version")):
            continue
        element = model.get(pattern)
        if element is None:
            errors.append(FieldError("scorm_unknown_element", field=where, name=name[:200], version=version))
            continue
        value = "" if raw is None else str(raw) if not isinstance(raw, bool) else str(raw).lower()
        if value == "":
            continue
        if index > MAX_INDEX:
            errors.append(FieldError("scorm_index_too_large", field=where, name=name, limit=MAX_INDEX))
        elif element.vocabulary and value not in element.vocabulary:
            errors.append(FieldError("scorm_bad_vocabulary", field=where, name=name,
                                     allowed=", ".join(element.vocabulary)))
        elif element.limit is not None and len(value) > element.limit:
            errors.append(FieldError("scorm_too_long", field=where, name=name, limit=element.limit))
        elif (expected := element.check(value)) is not None:
            errors.append(FieldError("scorm_bad_type", field=where, name=name, expected=expected))
        else:
            accepted[name] = value
    return accepted, errors
