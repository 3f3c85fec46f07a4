"""The completion path's statements, built once (per dialect where they differ) and executed with parameters.

As for the heartbeat (progress_sql), building a SQLAlchemy statement per request cost more of the worker's CPU
than running it. Parameters carry a prefix: `r_` for reads, `c_` for the completion row, `b_` for its buckets
(counters.bucket_params), `j_` for the certificate job.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, literal, literal_column, select, update

from app.core.dialect import bound, insert_on
from app.models.certificate import Certificate
from app.models.completion import Completion
from app.models.course import Course, CourseVersion, Lesson, Module
from app.models.identity import User
from app.models.jobs import Job, JobKind, JobStatus
from app.models.learning import Enrollment, LessonProgress
from app.models.quiz import Quiz
from app.services.counters import buckets as counters
from app.services.jobs import DEFAULT_MAX_ATTEMPTS

completion = Completion.__table__
course, versions, enrollment = Course.__table__, CourseVersion.__table__, Enrollment.__table__
progress, lessons, modules, quizzes = LessonProgress.__table__, Lesson.__table__, Module.__table__, Quiz.__table__
certificates, jobs, users = Certificate.__table__, Job.__table__, User.__table__

COMPLETION = tuple(completion.c[name] for name in (
    "seq", "id", "txid", "user_id", "course_id", "course_version", "audience", "province_code", "source",
    "client_id", "external_ref", "completed_at", "created_at", "assurance"))
PROGRESS = tuple(progress.c[name] for name in (
    "lesson_key", "completed_at", "covered_s", "duration_s", "viewed_at", "best_score"))


def _param(column: Any, prefix: str) -> Any:
    return bound(column, f"{prefix}{column.key}")


# --- reads ---------------------------------------------------------------------------------------------------

# Where a learner stands in a course, in one round trip: the course, its published version, the learner's
# enrollment, completion and progress rows (one result row per progress row; at least one while the course
# exists). Courses are looked up by slug or by id, as catalogue.lookup_course does. The LEARNER_ variants
# start from the learner's account (one row even when no course matches), for callers holding only the id
# from a verified token: the account's state and snapshot facts come with the same read.
published = versions.alias("published")
_user = bindparam("r_user_id", type_=progress.c.user_id.type)
_by_slug = course.c.slug == bindparam("r_slug", type_=course.c.slug.type)
_by_id = course.c.id == bindparam("r_course_id", type_=course.c.id.type)
# Labelled so that rows are read by name: the completion's and the progress row's columns carry prefixes (both
# have `completed_at`), the learner's `learner_`.
STANDING_COLUMNS = (course.c.id.label("course_id"), course.c.slug.label("course_slug"),
                    published.c.id.label("published_version_id"), enrollment.c.id.label("enrollment_id"),
                    enrollment.c.version_id.label("enrolled_version_id"), enrollment.c.left_at,
                    *(column.label(f"completion_{column.key}") for column in COMPLETION),
                    *(column.label(f"progress_{column.key}") for column in PROGRESS))
LEARNER_COLUMNS = (users.c.is_active.label("learner_is_active"), users.c.audience.label("learner_audience"),
                   users.c.official_verified_at.label("learner_official_verified_at"),
                   users.c.province_code.label("learner_province_code"), users.c.full_name.label("learner_full_name"),
                   users.c.assurance.label("learner_assurance"))


def _standing(course_is: Any, *, learner: bool) -> Any:
    joined = users.outerjoin(course, course_is) if learner else course
    joined = (joined
              # The literal (not a parameter) lets PostgreSQL use the partial unique index of published versions.
              .outerjoin(published, and_(published.c.course_id == course.c.id,
                                         published.c.status == literal_column("'published'")))
              .outerjoin(enrollment, and_(enrollment.c.user_id == _user, enrollment.c.course_id == course.c.id))
              .outerjoin(completion, and_(completion.c.user_id == _user, completion.c.course_id == course.c.id))
              .outerjoin(progress, and_(progress.c.user_id == _user, progress.c.course_id == course.c.id)))
    if learner:
        return select(*LEARNER_COLUMNS, *STANDING_COLUMNS).select_from(joined).where(users.c.id == _user)
    return select(*STANDING_COLUMNS).select_from(joined).where(course_is)


STANDING_BY_SLUG, STANDING_BY_ID = _standing(_by_slug, learner=False), _standing(_by_id, learner=False)
LEARNER_STANDING_BY_SLUG, LEARNER_STANDING_BY_ID = _standing(_by_slug, learner=True), _standing(_by_id, learner=True)

# A version's completion rules: the version, then its required lessons in course order with quiz pass scores.
RULES = (
    select(versions.c.id, versions.c.course_id, versions.c.version, versions.c.title, versions.c.video_coverage,
           versions.c.certificate, lessons.c.id.label("lesson_id"), lessons.c.key.label("lesson_key"),
           lessons.c.title.label("lesson_title"), lessons.c.kind.label("lesson_kind"),
           lessons.c.duration_s.label("lesson_duration_s"), quizzes.c.pass_score.label("lesson_pass_score"))
    .select_from(versions
                 .outerjoin(lessons, and_(lessons.c.version_id == versions.c.id, lessons.c.required))
                 .outerjoin(modules, modules.c.id == lessons.c.module_id)
                 .outerjoin(quizzes, quizzes.c.lesson_id == lessons.c.id))
    .where(versions.c.id == bindparam("r_version_id", type_=versions.c.id.type))
    .order_by(modules.c.position, lessons.c.position))
CERTIFICATE_FLAG = select(versions.c.certificate).where(
    versions.c.course_id == bindparam("r_course_id", type_=versions.c.course_id.type),
    versions.c.version == bindparam("r_version", type_=versions.c.version.type))

# The learner's enrollment, locked so concurrent "last lesson" transactions decide one after the other.
LOCK_ENROLLMENT = select(enrollment.c.id).where(
    enrollment.c.user_id == _user,
    enrollment.c.course_id == bindparam("r_course_id", type_=enrollment.c.course_id.type)).with_for_update()
COMPLETION_OF = select(*COMPLETION).where(
    completion.c.user_id == _user,
    completion.c.course_id == bindparam("r_course_id", type_=completion.c.course_id.type))
COMPLETION_BY_REF = select(*COMPLETION).where(
    completion.c.client_id == bindparam("r_client_id", type_=completion.c.client_id.type),
    completion.c.external_ref == bindparam("r_external_ref", type_=completion.c.external_ref.type))
# Newest first: a reissue revokes the old certificate, and the answer links the valid one, else the latest.
CERTIFICATES = (select(certificates.c.id, certificates.c.serial, certificates.c.status)
                .where(certificates.c.completion_id == bindparam("r_completion_id",
                                                                 type_=certificates.c.completion_id.type))
                .order_by(certificates.c.issued_at.desc()))

# --- writes --------------------------------------------------------------------------------------------------

_INSERTED = ("id", "user_id", "course_id", "course_version", "audience", "province_code", "current_province_code",
             "source", "client_id", "external_ref", "completed_at", "created_at", "feed_item", "assurance")
_JOB_VALUES = {
    "id": _param(jobs.c.id, "j_"), "kind": literal(JobKind.issue_certificate.value, jobs.c.kind.type),
    "payload": _param(jobs.c.payload, "j_"), "status": literal(JobStatus.queued.value, jobs.c.status.type),
    "attempts": literal(0, Integer), "max_attempts": literal(DEFAULT_MAX_ATTEMPTS, Integer),
    "run_after": bindparam("c_created_at", type_=jobs.c.run_after.type),
    "created_at": bindparam("c_created_at", type_=jobs.c.created_at.type)}
_MARK_ENROLLMENT = update(enrollment).where(
    enrollment.c.user_id == bindparam("c_user_id", type_=enrollment.c.user_id.type),
    enrollment.c.course_id == bindparam("c_course_id", type_=enrollment.c.course_id.type),
    enrollment.c.completed_at.is_(None),
).values(completed_at=bindparam("c_completed_at", type_=enrollment.c.completed_at.type))


@dataclass(frozen=True)
class WriteStatements:
    insert: Any  # INSERT … ON CONFLICT DO NOTHING RETURNING the row (SQLite; the other writes follow)
    mark_enrollment: Any  # the enrollment's completed_at
    enqueue_certificate: Any  # the certificate job
    record: Any  # PostgreSQL: everything in one statement, without the job
    record_with_certificate: Any  # PostgreSQL: everything in one statement, with the job


@cache
def write_statements(dialect: str) -> WriteStatements:
    """On PostgreSQL one statement records a completion: the INSERT is a data-modifying CTE and the buckets,
    the enrollment and the job are further CTEs reading from it, so all of them happen exactly when the INSERT
    does (a conflict — the learner's completion already exists — returns no row and writes nothing)."""
    is_pg = dialect == "postgresql"
    insert = insert_on("postgresql" if is_pg else "sqlite")
    # txid orders the completion feed on PostgreSQL; SQLite serialises writers and stores 0.
    txid = literal_column("txid_current()") if is_pg else literal(0, completion.c.txid.type)
    insert_completion = insert(completion).values(
        {name: _param(completion.c[name], "c_") for name in _INSERTED} | {"txid": txid},
    ).on_conflict_do_nothing().returning(*COMPLETION)
    enqueue = insert(jobs).values(_JOB_VALUES)
    record = record_with_certificate = None
    if is_pg:
        recorded = insert_completion.cte("recorded")
        written = [*counters.counting_ctes(recorded),
                   _MARK_ENROLLMENT.where(exists(select(recorded.c.seq))).cte("enrolled")]
        queued = insert(jobs).from_select(list(_JOB_VALUES), select(*_JOB_VALUES.values()).select_from(recorded))
        record = select(*recorded.c).add_cte(*written)
        record_with_certificate = select(*recorded.c).add_cte(*written, queued.cte("queued"))
    return WriteStatements(insert=insert_completion, mark_enrollment=_MARK_ENROLLMENT, enqueue_certificate=enqueue,
                           record=record, record_with_certificate=record_with_certificate)
