"""Every table, imported here so Alembic and the app see one complete metadata."""

from app.models.base import metadata  # noqa: F401  (naming convention first)
from app.models.certificate import Certificate  # noqa: F401
from app.models.completion import Completion, CompletionCounter, LearnerCounter, LearnerYear, Programme  # noqa: F401
from app.models.contests import Contest, ContestAttempt, ContestEntry  # noqa: F401
from app.models.course import Asset, Course, CourseVersion, ImportJob, Lesson, Module  # noqa: F401
from app.models.geo import AdminUnit  # noqa: F401
from app.models.identity import LoginThrottle, RefreshToken, ServiceClient, User  # noqa: F401
from app.models.jobs import Job  # noqa: F401
from app.models.learning import Enrollment, LessonProgress, ProgressEvent  # noqa: F401
from app.models.quiz import Choice, Question, Quiz, QuizAttempt  # noqa: F401
from app.models.reporting import Intake, IntakeCourse, IntakeMember  # noqa: F401
from app.models.scorm import ScormAttempt, ScormInteraction, ScormObjective, ScormSco, ScormSession  # noqa: F401
from app.models.units import HeadcountVersion, OrgUnit, UnitHeadcount, UnitOfficial  # noqa: F401
from app.models.verification import LinkedIdentity, OidcSignIn, PhoneCode  # noqa: F401
from app.models.video import LessonCaption, VideoEncoding  # noqa: F401
