"""What the LMS decides from a SCO's reported values: the statuses it must recompute, the session's time, and
whether the lesson's completion rule is met. Pure functions over flattened CMI values.

SCORM 1.2: with a mastery score, a reported raw score decides passed (≥ mastery) or failed, whatever status the
SCO set. SCORM 2004: with a completion threshold, a reported progress measure decides completed/incomplete; with
a scaled passing score, `score.scaled` decides passed/failed, and no scaled score means success is unknown.

When a SCO terminates, its attempt is over (the next launch starts a new one) in 2004 unless it exits with
`suspend` (RTE 4.2.8: `normal`, `""`, `logout` and `time-out` end the learner attempt); in 1.2, whose exits
never end an attempt (as in Moodle: resume, `suspend` giving entry `resume`), only on `time-out` when the
package's time limit action is `exit,*`; in both, when the attempt's time reached `max_time_allowed` with an
`exit,*` action, whatever the exit (suspending would resume into time already spent).
"""

from dataclasses import dataclass

from app.services.scorm.data_model import DURATION, timespan_12_seconds

# A year, month, week and day as the SCORM 2004 conformance suite counts them.
_DURATION_UNITS_S = (31_536_000, 2_592_000, 604_800, 86_400, 3600, 60, 1)


@dataclass(frozen=True)
class ScoParameters:
    """What the manifest said about a SCO: the values that make the LMS recompute statuses."""

    family: str  # "1.2" or "2004"
    mastery_score: float | None = None
    completion_threshold: float | None = None
    scaled_passing_score: float | None = None
    completion_rule: str = "completed_or_passed"


@dataclass(frozen=True)
class ScoResult:
    completion_status: str  # completed | incomplete | not attempted | unknown
    success_status: str  # passed | failed | unknown
    lesson_status: str | None  # 1.2's single status as the LMS settled it
    score_raw: float | None
    score_scaled: float | None  # 2004's, or 1.2's raw / max when a max is known
    progress_measure: float | None


def seconds(value: str | None) -> float:
    """A 1.2 time span (HHHH:MM:SS.SS) or a 2004 ISO 8601 duration in seconds; 0 for nothing or garbage."""
    if not value:
        return 0.0
    if (span := timespan_12_seconds(value)) is not None:
        return span
    if match := DURATION.fullmatch(value):
        try:
            parts = [float(g.replace(",", ".")) if g else 0.0 for g in match.groups()]
        except ValueError:  # "P1..5D" has the form's characters but is no number
            return 0.0
        return sum(part * unit for part, unit in zip(parts, _DURATION_UNITS_S, strict=True))
    return 0.0


def duration_2004(total_s: float) -> str:
    """Seconds as an ISO 8601 duration for `cmi.total_time`."""
    whole = int(total_s)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    cents = int(round((total_s - whole) * 100))
    return f"PT{hours}H{minutes}M{secs}.{cents:02d}S" if cents else f"PT{hours}H{minutes}M{secs}S"


def timespan_12(total_s: float) -> str:
    """Seconds as a 1.2 CMITimespan for `cmi.core.total_time` (hours capped at 9999)."""
    whole = int(total_s)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{min(hours, 9999):04d}:{minutes:02d}:{secs:02d}.{int(round((total_s - whole) * 100)):02d}"


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def recompute(params: ScoParameters, values: dict[str, str], *, credit: bool = True) -> ScoResult:
    """The statuses the LMS records for a SCO's current values (see the module's rules)."""
    if params.family == "1.2":
        status = values.get("cmi.core.lesson_status") or "not attempted"
        raw = _number(values.get("cmi.core.score.raw"))
        high = _number(values.get("cmi.core.score.max"))
        if params.mastery_score is not None and raw is not None and credit and status != "browsed":
            status = "passed" if raw >= params.mastery_score else "failed"
        completion = ("completed" if status in ("completed", "passed", "failed") else
                      "incomplete" if status in ("incomplete", "browsed") else "not attempted")
        success = status if status in ("passed", "failed") else "unknown"
        scaled = round(raw / high, 7) if raw is not None and high else None
        return ScoResult(completion, success, status, raw, scaled, None)
    completion = values.get("cmi.completion_status") or "unknown"
    progress = _number(values.get("cmi.progress_measure"))
    if params.completion_threshold is not None and progress is not None:
        completion = "completed" if progress >= params.completion_threshold else "incomplete"
    success = values.get("cmi.success_status") or "unknown"
    scaled = _number(values.get("cmi.score.scaled"))
    if params.scaled_passing_score is not None:
        success = "unknown" if scaled is None else "passed" if scaled >= params.scaled_passing_score else "failed"
    return ScoResult(completion, success, None, _number(values.get("cmi.score.raw")), scaled, progress)


def rule_met(rule: str, result: ScoResult) -> bool:
    """Whether the lesson's completion rule (set per lesson at import) is met by the SCO's statuses."""
    completed, passed = result.completion_status == "completed", result.success_status == "passed"
    return {"completed": completed, "passed": passed, "completed_or_passed": completed or passed,
            "completed_and_passed": completed and passed}[rule]


def session_seconds(family: str, values: dict[str, str]) -> float:
    return seconds(values.get("cmi.core.session_time" if family == "1.2" else "cmi.session_time"))


def attempt_ends(family: str, exit_value: str | None, total_s: float, max_time_allowed: str | None,
                 time_limit_action: str | None) -> bool:
    """Whether a SCO's Terminate ends its attempt (see the module's rules)."""
    exits_on_limit = (time_limit_action or "").startswith("exit,")
    limit_s = seconds(max_time_allowed)
    if exits_on_limit and limit_s and total_s >= limit_s:
        return True
    if family == "1.2":
        return exit_value == "time-out" and exits_on_limit
    return exit_value != "suspend"
