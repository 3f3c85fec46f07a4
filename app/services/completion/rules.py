"""What completing a course takes, and where a learner stands: each version's rules (required lessons in course
order, quiz pass scores, video coverage, certificate flag) from a per-process cache, and one read of the
learner's course, enrollment, completion and progress.

A version's rows are written once, at import, and never change (publishing only changes which version a course
shows), so its rules are cached by version id for the life of the process; a newly published version has a new
id and is read on first use.
"""

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

import app.services.content.packages.versions  # noqa: F401  (registers course_not_published)
from app.core.errors import NotFound, Unauthorized
from app.core.i18n import messages
from app.models.course import LessonKind
from app.models.identity import User
from app.models.learning import Requirement
from app.services.completion import statements as sql

messages({
    "not_enrolled": ("Bạn chưa ghi danh khóa học này.", "You are not enrolled in this course."),
})

_RULES_CACHE_SIZE = 5_000  # versions; a national catalogue has hundreds of courses with a few versions each


@dataclass(slots=True)
class CompletionRecord:
    """A completion row as the platform paths read or wrote it (the columns of Completion, no ORM instance).
    `recorded_now`: inserted by this transaction, so no certificate can exist for it yet."""

    seq: int
    id: uuid.UUID
    txid: int
    user_id: uuid.UUID
    course_id: uuid.UUID
    course_version: int
    audience: str
    province_code: str | None
    source: str
    client_id: str | None
    external_ref: str | None
    completed_at: datetime
    created_at: datetime
    assurance: str  # the learner's assurance when it was recorded (identity.Assurance)
    recorded_now: bool = False


@dataclass(frozen=True, slots=True)
class CourseRef:
    id: uuid.UUID
    slug: str


# --- the rules: what a learner must do ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LessonRule:
    id: uuid.UUID
    key: str
    title: str
    kind: str
    duration_s: float | None
    pass_score: float | None

    @classmethod
    def of(cls, columns: Any) -> "LessonRule":
        return cls(**{name: columns[f"lesson_{name}"] for name in _LESSON_RULE_FIELDS})


_LESSON_RULE_FIELDS = ("id", "key", "title", "kind", "duration_s", "pass_score")


@dataclass(frozen=True, slots=True)
class VersionRules:
    """A course version's completion rules. Immutable: a version's rows are written once, at import."""

    id: uuid.UUID
    course_id: uuid.UUID
    version: int
    title: str
    video_coverage: float
    certificate: bool
    lessons: tuple[LessonRule, ...]  # the required ones, in course order


_rules: OrderedDict[uuid.UUID, VersionRules] = OrderedDict()


async def version_rules(conn: AsyncConnection, version_id: uuid.UUID) -> VersionRules:
    """A version's rules from a per-process LRU cache, loaded in one query on a miss."""
    rules = _rules.get(version_id)
    if rules is not None:
        _rules.move_to_end(version_id)
        return rules
    rows = (await conn.execute(sql.RULES, {"r_version_id": version_id})).all()
    if not rows:
        raise NotFound("course_not_published")
    first = rows[0]._mapping
    rules = VersionRules(id=first["id"], course_id=first["course_id"], version=first["version"],
                         title=first["title"], video_coverage=first["video_coverage"],
                         certificate=bool(first["certificate"]),
                         lessons=tuple(LessonRule.of(row._mapping) for row in rows if row.lesson_id is not None))
    _rules[version_id] = rules
    while len(_rules) > _RULES_CACHE_SIZE:
        _rules.popitem(last=False)
    return rules


class ProgressState(NamedTuple):
    """One lesson key's progress, as the standing read found it. Not `learning.progress.ProgressRow`, the
    locked row a heartbeat rewrites (id, intervals, last heartbeat): this is what a rule checks (best score
    included), read only, and completion cannot import a shape from learning, which imports completion."""

    completed_at: datetime | None
    covered_s: float
    duration_s: float | None
    viewed_at: datetime | None
    best_score: float | None

    @classmethod
    def of(cls, columns: Any) -> "ProgressState":
        return cls(*(columns[key] for key in _PROGRESS_KEYS))


_PROGRESS_KEYS = tuple(f"progress_{name}" for name in ProgressState._fields)


@dataclass
class Evaluation:
    """Every required lesson of `version` against the learner's progress, which is keyed by lesson key so work
    done on an earlier version counts toward the current one."""

    version: VersionRules
    progress: dict[str, ProgressState] = field(default_factory=dict)

    @property
    def met(self) -> bool:
        """Whether every requirement is met (without building the requirement list)."""
        return all((state := self.progress.get(lesson.key)) and state.completed_at for lesson in self.version.lessons)

    @cached_property
    def requirements(self) -> list[Requirement]:
        """Videos covered to the version's `video_coverage`, documents and text viewed, quizzes passed (best
        score >= pass score); a lesson's requirement is met once its progress row is completed."""
        requirements = []
        for lesson in self.version.lessons:
            state = self.progress.get(lesson.key)
            completed_at, covered_s, duration_s, viewed_at, best_score = state or (None,) * len(ProgressState._fields)
            requirement = Requirement(lesson_id=lesson.id, lesson_key=lesson.key, title=lesson.title,
                                      kind=lesson.kind, met=bool(completed_at))
            if lesson.kind == LessonKind.video:
                duration = lesson.duration_s or duration_s
                requirement.coverage = round(min(1.0, covered_s / duration), 4) if state and duration else 0.0
                requirement.required_coverage = self.version.video_coverage
            elif lesson.kind == LessonKind.quiz:
                requirement.best_score = best_score
                requirement.pass_score = lesson.pass_score
            else:
                requirement.viewed = bool(viewed_at)
            requirements.append(requirement)
        return requirements

    @property
    def unmet(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]


@dataclass(frozen=True, slots=True)
class Account:
    """What recording a completion needs of the learner's account, read with where they stand (the rule for
    the effective audience is User's own)."""

    id: uuid.UUID
    audience: str
    official_verified_at: datetime | None
    province_code: str | None
    full_name: str
    assurance: str

    is_verified_official = User.is_verified_official
    effective_audience = User.effective_audience


@dataclass
class Standing:
    """Where a learner stands in a course, as one read of the standing query found it."""

    account: Account | None  # when read with the account (callers holding only the learner's id)
    course: CourseRef
    published_version_id: uuid.UUID | None
    enrollment_id: uuid.UUID | None
    enrolled_version_id: uuid.UUID | None
    left_at: datetime | None
    completion: CompletionRecord | None
    progress: dict[str, ProgressState]

    @property
    def enrolled(self) -> bool:
        return self.enrollment_id is not None and self.left_at is None

    async def evaluate(self, conn: AsyncConnection) -> Evaluation:
        """The rules of the version the learner sees: the published one, else (a withdrawn course) the one
        they enrolled in."""
        version_id = self.published_version_id or self.enrolled_version_id
        if version_id is None:
            raise NotFound("course_not_published")
        return Evaluation(await version_rules(conn, version_id), self.progress)


_COMPLETION_KEYS = tuple((f"completion_{column.key}", column.key) for column in sql.COMPLETION)
_ACCOUNT_KEYS = tuple(f"learner_{name}" for name in ("audience", "official_verified_at", "province_code", "full_name",
                                                     "assurance"))
_STATEMENTS = {(False, False): sql.STANDING_BY_SLUG, (False, True): sql.STANDING_BY_ID,
               (True, False): sql.LEARNER_STANDING_BY_SLUG, (True, True): sql.LEARNER_STANDING_BY_ID}


async def standing(conn: AsyncConnection, user_id: uuid.UUID, course_ref: str | uuid.UUID, *,
                   with_account: bool = False) -> Standing:
    """Read where the learner stands in the course named by id or slug (404 when no course matches); with
    the account, 401 unless it exists and is active (as for any signed-in request)."""
    params: dict[str, Any] = {"r_user_id": user_id}
    if not isinstance(course_ref, uuid.UUID):
        try:
            course_ref = uuid.UUID(course_ref)
        except ValueError:
            params["r_slug"] = course_ref
    if isinstance(course_ref, uuid.UUID):
        params["r_course_id"] = course_ref
    rows = [row._mapping for row in (await conn.execute(_STATEMENTS[with_account, "r_course_id" in params],
                                                         params)).all()]
    account = None
    if with_account:
        if not rows or not rows[0]["learner_is_active"]:
            raise Unauthorized("invalid_token")
        account = Account(user_id, *(rows[0][key] for key in _ACCOUNT_KEYS))
    if not rows or rows[0]["course_id"] is None:
        raise NotFound("course_not_found")
    first = rows[0]
    completion = None
    if first["completion_seq"] is not None:
        completion = CompletionRecord(**{name: first[key] for key, name in _COMPLETION_KEYS})
    return Standing(
        account=account, course=CourseRef(first["course_id"], first["course_slug"]),
        published_version_id=first["published_version_id"], enrollment_id=first["enrollment_id"],
        enrolled_version_id=first["enrolled_version_id"], left_at=first["left_at"], completion=completion,
        progress={row["progress_lesson_key"]: ProgressState.of(row) for row in rows
                  if row["progress_lesson_key"] is not None})


