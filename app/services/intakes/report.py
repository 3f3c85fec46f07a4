"""An intake's completion report: assignments (members × courses) enrolled and completed, by agency and by
course, and after the deadline the assignments still not completed (the files for Excel: report_file).

Every figure comes from GROUP BY queries over the intake's members × courses joined to enrollments and
completions, so the number of queries does not grow with the intake.
"""


from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import search_key
from app.models.base import utcnow
from app.models.completion import Completion
from app.models.course import Course, CourseVersion, VersionStatus
from app.models.identity import User
from app.models.learning import Enrollment
from app.models.reporting import (
    AgencyReport,
    CourseReport,
    Intake,
    IntakeCourse,
    IntakeMember,
    IntakeReport,
    OverdueAssignment,
)
from app.models.units import OrgUnit, UnitOfficial
from app.services.intakes.intakes import intake_public

NO_AGENCY = "(Chưa ghi cơ quan, đơn vị)"


def completion_figures(assigned: int, enrolled: int, completed: int, completed_on_time: int) -> dict:
    """The counts with the rate as a fraction, a percent with one decimal (half up) and "375 / 409 = 91.7%"."""
    tenths = (completed * 2000 + assigned) // (2 * assigned) if assigned else 0
    return {"assigned": assigned, "enrolled": enrolled, "completed": completed,
            "completed_on_time": completed_on_time,
            "completion_rate": round(completed / assigned, 4) if assigned else 0.0,
            "completion_percent": tenths / 10,
            "completed_of_assigned": f"{completed} / {assigned} = {tenths // 10}.{tenths % 10}%"}


def _assignment_flags(intake: Intake) -> dict[str, ColumnElement[int]]:
    """1/0 per assignment (member × course): enrolled (active enrollment or a completion), completed, on time."""
    completed = Completion.seq.is_not(None)
    return {
        "enrolled": case((or_(completed, and_(Enrollment.id.is_not(None), Enrollment.left_at.is_(None))), 1),
                         else_=0),
        "completed": case((completed, 1), else_=0),
        "on_time": case((and_(completed, Completion.completed_at <= intake.deadline), 1), else_=0),
    }


# A member's agency is the unit they are counted under (services/units) where they have one, else the agency
# they typed, so the report groups members the way completion rates do.
AGENCY = func.coalesce(OrgUnit.name, User.agency)


def _over_assignments(query: Select, intake: Intake) -> Select:
    """`query` over every assignment of the intake, with the member's enrollment and completion if any."""
    return (query.select_from(IntakeMember)
            .join(IntakeCourse, IntakeCourse.intake_id == IntakeMember.intake_id)
            .join(User, User.id == IntakeMember.user_id)
            .outerjoin(UnitOfficial, UnitOfficial.user_id == IntakeMember.user_id)
            .outerjoin(OrgUnit, OrgUnit.id == UnitOfficial.unit_id)
            .outerjoin(Enrollment, and_(Enrollment.user_id == IntakeMember.user_id,
                                        Enrollment.course_id == IntakeCourse.course_id))
            .outerjoin(Completion, and_(Completion.user_id == IntakeMember.user_id,
                                        Completion.course_id == IntakeCourse.course_id))
            .where(IntakeMember.intake_id == intake.id))


async def intake_report(session: AsyncSession, intake: Intake, *,
                        overdue_limit: int | None = 1000) -> IntakeReport:
    """Completion of an intake, counted per assignment (one member × one course): the rate is completed /
    assigned. A completion counts whenever it happened (also before the intake opened); `completed_on_time`
    only by the deadline. Enrolled means an active enrollment or a completion. Once the deadline has passed,
    every assignment not completed is overdue (`overdue_limit` of them listed; None: all)."""
    as_of = utcnow()
    flags = _assignment_flags(intake)
    sums = [func.sum(flags[name]) for name in ("enrolled", "completed", "on_time")]

    # Per member first (did they finish every course?), then per agency.
    per_member = _over_assignments(select(
        AGENCY.label("agency"), func.count().label("assigned"), sums[0].label("enrolled"),
        sums[1].label("completed"), sums[2].label("on_time")), intake,
    ).group_by(IntakeMember.user_id, AGENCY).subquery()
    m = per_member.c
    agencies = (await session.execute(select(
        m.agency, func.count(), func.sum(case((m.completed == m.assigned, 1), else_=0)),
        func.sum(m.assigned), func.sum(m.enrolled), func.sum(m.completed), func.sum(m.on_time),
    ).group_by(m.agency))).all()
    by_agency = sorted(
        (AgencyReport(agency=agency, members=members, members_completed=int(done),
                      **completion_figures(*(int(n) for n in counts)))
         for agency, members, done, *counts in agencies),
        key=lambda a: (a.agency is None, search_key(a.agency or "")))

    public = await intake_public(session, intake)
    per_course = {course_id: counts for course_id, *counts in (await session.execute(_over_assignments(
        select(IntakeCourse.course_id, func.count(), *sums), intake).group_by(IntakeCourse.course_id))).all()}
    by_course = [CourseReport(course=course, **completion_figures(
        *(int(n) for n in per_course.get(course.id, (0, 0, 0, 0))))) for course in public.courses]

    deadline_passed = as_of > intake.deadline
    overdue = await _overdue(session, intake, flags) if deadline_passed else []
    totals = [sum(getattr(a, name) for a in by_agency)
              for name in ("assigned", "enrolled", "completed", "completed_on_time")]
    return IntakeReport(
        intake=public, as_of=as_of, deadline_passed=deadline_passed,
        members=sum(a.members for a in by_agency), members_completed=sum(a.members_completed for a in by_agency),
        **completion_figures(*totals), by_agency=by_agency, by_course=by_course,
        overdue_count=len(overdue), overdue=overdue[:overdue_limit])


async def _overdue(session: AsyncSession, intake: Intake, flags: dict) -> list[OverdueAssignment]:
    rows = (await session.execute(_over_assignments(select(
        IntakeMember.user_id, User.full_name, AGENCY, Course.id, Course.slug, CourseVersion.title,
        flags["enrolled"]), intake)
        .join(Course, Course.id == IntakeCourse.course_id)
        .outerjoin(CourseVersion, and_(CourseVersion.course_id == Course.id,
                                       CourseVersion.status == VersionStatus.published))
        .where(Completion.seq.is_(None)))).all()
    overdue = [OverdueAssignment(user_id=user_id, full_name=name, agency=agency, course_id=course_id,
                                 course=slug, course_title=title, enrolled=bool(enrolled))
               for user_id, name, agency, course_id, slug, title, enrolled in rows]
    # Sorted here rather than by the database, so Vietnamese names order the same on SQLite and PostgreSQL.
    return sorted(overdue, key=lambda o: (o.agency is None, search_key(o.agency or ""), search_key(o.full_name),
                                          str(o.user_id), o.course))
