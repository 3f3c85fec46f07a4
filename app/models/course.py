"""Courses and their versions, modules, lessons, media assets, and the jobs that import course packages.

A `Course` is the stable thing learners enroll in and completions count (one per slug); each package
import creates a `CourseVersion`. Learners see the version the course publishes; progress follows lesson keys.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer
from pydantic import Field as PydField
from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field, time_field
from app.models.video import CaptionLink, VideoProgress


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class LessonKind(StrEnum):
    video = "video"
    document = "document"
    text = "text"
    quiz = "quiz"
    scorm = "scorm"  # a SCO or asset of a SCORM package (app/models/scorm.py)


class Course(SQLModel, table=True):
    __tablename__ = "course"

    id: uuid.UUID = id_field()
    slug: str = Field(max_length=100, unique=True)
    published_at: datetime | None = time_field(index=True)  # first publish, for "newest" sorting
    enrollment_count: int = 0
    created_at: datetime = created_at_field()


class CourseVersion(SQLModel, table=True):
    __tablename__ = "course_version"
    __table_args__ = (
        UniqueConstraint("course_id", "version"),
        # Learners see exactly one version of a course: the published one.
        Index("uq_course_version_published", "course_id", unique=True,
              sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'")),
    )

    id: uuid.UUID = id_field()
    course_id: uuid.UUID = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    version: int
    status: VersionStatus = Field(default=VersionStatus.draft, sa_type=String(10))
    title: str = Field(max_length=300)
    # Lower-case, accent-free title and description so "ky nang so" finds "Kỹ năng số".
    search_text: str = Field(default="", sa_column=Column(String(2000), nullable=False))
    description: str = ""
    language: str = Field(default="vi", max_length=10)
    audiences: list[str] = Field(default_factory=list, sa_type=JSONType)
    estimated_minutes: int = 0
    certificate: bool = False
    video_coverage: float = 0.9
    created_at: datetime = created_at_field()
    published_at: datetime | None = time_field()


class Module(SQLModel, table=True):
    __tablename__ = "course_module"

    id: uuid.UUID = id_field()
    version_id: uuid.UUID = Field(foreign_key="course_version.id", index=True, ondelete="CASCADE")
    position: int
    title: str = Field(max_length=300)


class Asset(SQLModel, table=True):
    __tablename__ = "asset"

    id: uuid.UUID = id_field()
    version_id: uuid.UUID = Field(foreign_key="course_version.id", index=True, ondelete="CASCADE")
    path: str = Field(max_length=500)  # path inside the package
    storage_key: str = Field(max_length=500, unique=True)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=BigInteger)  # videos and packages run to several GB
    content_type: str = Field(max_length=100)
    duration_s: float | None = None
    created_at: datetime = created_at_field()


class Lesson(SQLModel, table=True):
    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: uuid.UUID = id_field()
    version_id: uuid.UUID = Field(foreign_key="course_version.id", index=True, ondelete="CASCADE")
    module_id: uuid.UUID = Field(foreign_key="course_module.id", index=True, ondelete="CASCADE")
    position: int
    key: str = Field(max_length=100)
    kind: LessonKind = Field(sa_type=String(10))
    title: str = Field(max_length=300)
    required: bool = True
    text_body: str | None = None
    asset_id: uuid.UUID | None = Field(default=None, foreign_key="asset.id", ondelete="SET NULL")
    duration_s: float | None = None


class ImportStep(StrEnum):
    unpacking = "unpacking"
    validating = "validating"
    storing = "storing"
    publishing = "publishing"


class ImportJob(SQLModel, table=True):
    __tablename__ = "import_job"

    id: uuid.UUID = id_field()
    status: str = Field(default="queued", max_length=10)  # JobStatus values
    step: ImportStep | None = Field(default=None, sa_type=String(12))
    percent: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    # What an import ignored or assumed (SCORM sequencing, a guessed version…), each with file and line.
    notices: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # ImportOptions given with the zip
    source_key: str = Field(max_length=500)  # the uploaded zip in storage
    filename: str | None = Field(default=None, max_length=300)
    publish: bool = False
    course_id: uuid.UUID | None = None
    version_id: uuid.UUID | None = None
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    started_at: datetime | None = time_field()
    finished_at: datetime | None = time_field()


# --- API schemas: catalogue, lessons, imports --------------------------------------------------------------


class QuizSummary(BaseModel):
    """What a learner may know of a quiz before starting it; never its questions."""

    quiz_id: uuid.UUID
    question_count: int  # questions drawn for each attempt
    pass_score: float
    max_attempts: int | None
    time_limit_s: int | None


class OutlineLesson(BaseModel):
    id: uuid.UUID
    key: str
    kind: LessonKind
    title: str
    duration_s: float | None
    required: bool
    quiz: QuizSummary | None = None


class OutlineModule(BaseModel):
    position: int
    title: str
    lessons: list[OutlineLesson]


class CourseSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f1c2a1e-5d7b-4a53-9a57-0c6f3f0f9a10", "slug": "ky-nang-so-co-ban",
        "title": "Kỹ năng số cơ bản",
        "description": "Khóa học ngắn…", "language": "vi", "audiences": ["citizen", "official"],
        "estimated_minutes": 30, "certificate": True, "version": 1, "published_at": "2026-03-01T02:00:00Z",
        "enrollment_count": 1520, "lesson_count": 4,
        "lessons_by_kind": {"video": 1, "document": 1, "text": 1, "quiz": 1}}]})

    id: uuid.UUID
    slug: str
    title: str
    description: str
    language: str
    audiences: list[str]
    estimated_minutes: int
    certificate: bool
    version: int
    published_at: datetime | None
    enrollment_count: int
    lesson_count: int
    lessons_by_kind: dict[str, int]


class CourseDetail(CourseSummary):
    video_coverage: float
    modules: list[OutlineModule]


class CoursePage(BaseModel):
    items: list[CourseSummary]
    next_cursor: str | None


class LessonContent(BaseModel):
    """A lesson opened by an enrolled learner: the text, or a signed media URL (TTL ≤ 1 h), or the quiz."""

    id: uuid.UUID
    course_id: uuid.UUID
    key: str
    kind: LessonKind
    title: str
    required: bool
    duration_s: float | None
    text: str | None = None
    url: str | None = None
    url_expires_at: datetime | None = None
    content_type: str | None = None
    size: int | None = None
    # Video: the HLS master playlist and the small 360p MP4 once renditions exist (until then `url` only),
    # valid until `media_expires_at` (at least the video's length); WebVTT captions per language.
    hls_url: str | None = None
    download_url: str | None = None
    download_size: int | None = None
    media_expires_at: datetime | None = None
    captions: list[CaptionLink] = []
    quiz: QuizSummary | None = None


# When a `scorm` lesson is met; the default depends on the package (docs/scorm.md, "Completion").
CompletionRule = Literal["completed", "passed", "completed_or_passed", "completed_and_passed"]


class ImportOptions(BaseModel):
    """What a SCORM package does not say about its course (course.yaml says it itself and ignores these)."""

    slug: str | None = PydField(default=None, max_length=100, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                                description="Default: the title, Vietnamese folded (Kỹ năng số → ky-nang-so)")
    audiences: list[Literal["citizen", "official"]] = PydField(default=["citizen", "official"], min_length=1)
    language: str = PydField(default="vi", pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
    certificate: bool = False
    estimated_minutes: int = PydField(default=0, ge=0, le=100_000)
    completion: CompletionRule | None = PydField(
        default=None, description="When each SCO's lesson is met; default completed_or_passed, or "
                                  "completed_and_passed where 2004 gives a scaled passing score")


class ImportProblem(BaseModel):
    file: str
    line: int | None = None
    column: int | None = None  # YAML and XML syntax errors, from 1
    message: str
    hint: str | None = None  # YAML syntax errors: what to change
    detail: str | None = None  # YAML syntax errors: the parser's own (English) text

    @model_serializer(mode="wrap")
    def _only_what_applies(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """column appears only on the YAML and XML syntax errors that have one, hint and detail only on YAML's."""
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in ("column", "hint", "detail")}


class ImportJobPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9b0e…", "status": "failed", "step": "validating", "percent": 20, "publish": False,
        "filename": "ky-nang-so.zip", "course_id": None, "version_id": None,
        "errors": [{"file": "quizzes/final.gift", "line": 12,
                    "message": "Câu hỏi “Mật khẩu”: lỗi cú pháp GIFT — “{” không có “}” tương ứng."}],
        "created_at": "2026-03-01T02:00:00Z", "started_at": "2026-03-01T02:00:01Z",
        "finished_at": "2026-03-01T02:00:02Z"}]})

    id: uuid.UUID
    status: str
    step: ImportStep | None
    percent: int
    publish: bool
    filename: str | None
    course_id: uuid.UUID | None
    version_id: uuid.UUID | None
    errors: list[ImportProblem]
    notices: list[ImportProblem] = []  # what was ignored or assumed (SCORM sequencing, a guessed version…)
    videos: list[VideoProgress] = []  # renditions of each video, made after the import succeeds
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UploadTicket(BaseModel):
    """Where to PUT a package directly (to S3 or the embedded storage), then import it by `upload_id`."""

    upload_id: uuid.UUID
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime
    max_bytes: int


class VersionPublic(BaseModel):
    version: int
    status: VersionStatus
    title: str
    created_at: datetime
    published_at: datetime | None


class AdminCourse(BaseModel):
    id: uuid.UUID
    slug: str
    title: str  # of the newest version
    published_version: int | None
    published_at: datetime | None
    enrollment_count: int
    versions: list[VersionPublic]


class AdminCoursePage(BaseModel):
    items: list[AdminCourse]
    next_cursor: str | None
    total: int


class PublishRequest(BaseModel):
    version: int | None = PydField(default=None, ge=1, description="Default: the newest draft")
