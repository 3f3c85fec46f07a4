"""Intake rules below the API: the report's figures against the completions themselves, its query count, the
overdue list, rounding, and which intake a learner's assignment shows."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models.base import utcnow
from app.models.completion import Completion
from app.models.identity import Role
from app.services.completion.completions import record_completion
from app.services.intakes.intakes import assignments_for, courses_assigned_not_enrolled, list_intakes, own_province
from app.services.intakes.report import completion_figures, intake_report
from tests.factories import make_user
from tests.factories.intakes import complete, course, enroll, make_intake, official
from tests.statements import statements_run

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar

# --- figures ------------------------------------------------------------------------------------------------


def test_rates_read_as_completed_over_assigned_rounded_half_up():
    assert completion_figures(409, 400, 375, 370)["completed_of_assigned"] == "375 / 409 = 91.7%"
    assert completion_figures(8, 8, 1, 1)["completion_percent"] == 12.5
    assert completion_figures(3, 3, 2, 2)["completed_of_assigned"] == "2 / 3 = 66.7%"
    assert completion_figures(2000, 0, 1999, 0)["completed_of_assigned"] == "1999 / 2000 = 100.0%"
    empty = completion_figures(0, 0, 0, 0)
    assert (empty["completion_rate"], empty["completed_of_assigned"]) == (0.0, "0 / 0 = 0.0%")


async def test_intake_completion_rate_matches_the_members_completions(session):
    basics, safety = await course(session), await course(session, title="An toàn thông tin")
    members = [await official(session, "UBND xã Phú Lương" if n % 3 else "Sở Nội vụ", full_name=f"Học viên {n}")
               for n in range(9)]
    outsider = await official(session, "Sở Nội vụ")
    intake = await make_intake(session, [basics, safety], members)
    for n, user in enumerate(members):
        if n % 2 == 0:
            await complete(session, user, basics)
        if n % 3 == 0:
            await complete(session, user, safety)
    await complete(session, outsider, basics)  # not a member: must not count

    report = await intake_report(session, intake)

    completed = (await session.execute(select(func.count()).select_from(Completion).where(
        Completion.user_id.in_([m.id for m in members]),
        Completion.course_id.in_([basics.course.id, safety.course.id])))).scalar()
    assert (report.members, report.assigned, report.completed) == (9, 18, completed) == (9, 18, 8)
    assert report.completed_of_assigned == "8 / 18 = 44.4%" and report.completion_rate == 0.4444
    agencies = {a.agency: (a.members, a.assigned, a.completed, a.members_completed) for a in report.by_agency}
    # Sở Nội vụ: members 0, 3, 6 (both courses for 0 and 6, safety only for 3); the rest in the commune.
    assert agencies == {"Sở Nội vụ": (3, 6, 5, 2), "UBND xã Phú Lương": (6, 12, 3, 0)}
    assert {c.course.slug: c.completed for c in report.by_course} == {basics.course.slug: 5,
                                                                       safety.course.slug: 3}


async def test_earlier_completions_count_late_ones_are_not_on_time_and_leaving_is_not_enrolled(session):
    rows = await course(session)
    early, late, left, fresh = [await official(session, "Sở Nội vụ") for _ in range(4)]
    opens = utcnow() - timedelta(days=30)
    intake = await make_intake(session, [rows], [early, late, left, fresh], opens_at=opens,
                               deadline=opens + timedelta(days=10))
    await complete(session, early, rows, completed_at=opens - timedelta(days=100))
    await complete(session, late, rows, completed_at=opens + timedelta(days=20))
    await enroll(session, left, rows, left=True)

    report = await intake_report(session, intake)
    assert (report.assigned, report.enrolled, report.completed, report.completed_on_time) == (4, 2, 2, 1)
    assert report.deadline_passed and report.overdue_count == 2
    assert {(o.user_id, o.enrolled) for o in report.overdue} == {(left.id, False), (fresh.id, False)}


async def test_overdue_waits_for_the_deadline_and_is_sorted_and_capped(session):
    rows = await course(session)
    people = [await official(session, agency, full_name=name) for agency, name in [
        ("Sở Y tế", "Đặng Thị Mai"), ("Sở Nội vụ", "Vũ Văn Bảo"), ("Sở Nội vụ", "Đào Văn An")]]
    due = await make_intake(session, [rows], people, opens_at=utcnow() - timedelta(days=9),
                            deadline=utcnow() - timedelta(seconds=1))
    upcoming = await make_intake(session, [rows], people)

    report = await intake_report(session, due, overdue_limit=2)
    assert report.overdue_count == 3
    assert [o.full_name for o in report.overdue] == ["Đào Văn An", "Vũ Văn Bảo"]
    ahead = await intake_report(session, upcoming)
    assert not ahead.deadline_passed and (ahead.overdue_count, ahead.overdue) == (0, [])


async def test_the_report_takes_the_same_number_of_queries_for_any_intake_size(session):
    rows, other = await course(session), await course(session)

    async def queries_for(size: int) -> int:
        members = [await official(session, f"Cơ quan {n % 4}") for n in range(size)]
        intake = await make_intake(session, [rows, other], members, opens_at=utcnow() - timedelta(days=9),
                                   deadline=utcnow() - timedelta(days=1))
        for user in members[::2]:
            await complete(session, user, rows)
        with statements_run(session) as statements:
            await intake_report(session, intake)
        return len(statements)

    small, large = await queries_for(2), await queries_for(12)
    assert 0 < small == large


async def test_a_province_admin_without_a_province_sees_no_intake(session):
    await make_intake(session, [await course(session)], [])
    stray = await make_user(session, role=Role.province_admin, province_code=None)
    assert own_province(stray) == "" and (await list_intakes(session, stray)).items == []
    ministry = await make_user(session, role=Role.ministry_admin, province_code="01")
    assert own_province(ministry) is None and (await list_intakes(session, ministry)).items


# --- what members see ---------------------------------------------------------------------------------------


async def test_an_assignment_shows_the_nearest_deadline_ahead_else_the_latest_passed(session):
    rows = await course(session)
    learner = await official(session, "Sở Nội vụ")
    now = utcnow()
    old = await make_intake(session, [rows], [learner], name="Đợt 2025", opens_at=now - timedelta(days=300),
                            deadline=now - timedelta(days=200))
    older = await make_intake(session, [rows], [learner], name="Đợt 2024", opens_at=now - timedelta(days=700),
                              deadline=now - timedelta(days=600))
    assert (await assignments_for(session, learner.id))[rows.course.id].intake_id == old.id != older.id

    later = await make_intake(session, [rows], [learner], name="Đợt cuối năm", deadline=now + timedelta(days=90))
    sooner = await make_intake(session, [rows], [learner], name="Đợt gấp", deadline=now + timedelta(days=7))
    chosen = (await assignments_for(session, learner.id))[rows.course.id]
    assert (chosen.intake_id, chosen.intake_name) == (sooner.id, "Đợt gấp") and later.id != sooner.id
    assert await assignments_for(session, (await official(session, "Sở Nội vụ")).id) == {}


async def test_assigned_courses_not_enrolled_show_completions_made_elsewhere(session):
    partner_done, waiting, left, active = [await course(session, title=f"Khóa {n}") for n in range(4)]
    learner = await official(session, "Sở Nội vụ")
    await make_intake(session, [partner_done, waiting, left, active], [learner])
    # A partner completion has no enrollment behind it.
    await record_completion(session, user=learner, course=partner_done.course, course_version=1,
                            source="partner")
    await enroll(session, learner, left, left=True)
    await enroll(session, learner, active)

    items = await courses_assigned_not_enrolled(session, learner.id, await assignments_for(session, learner.id))
    shown = {i.course.slug: (i.enrolled, i.progress_percent, i.completed_at is not None) for i in items}
    assert shown == {partner_done.course.slug: (False, 100, True), waiting.course.slug: (False, 0, False),
                     left.course.slug: (False, 0, False)}
