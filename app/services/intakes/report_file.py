"""An intake's completion report as a file for Excel: CSV (one sheet of sections) or XLSX (three sheets).

Both come from app.core.spreadsheets (names, agencies and course titles typed by people never become formulas);
the CSV layout is docs/intakes.md's. XLSX: "Tổng hợp" (the intake's facts, one row per agency and the total),
"Theo khóa học", "Quá hạn" (every assignment not completed after the deadline, the course's title beside its
code), with typed dates and numbers.
"""

import re
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Column, Sheet, csv_bytes, xlsx_bytes
from app.core.text import search_key
from app.models.reporting import Intake, IntakeReport
from app.services.geo import load_geography
from app.services.intakes.report import NO_AGENCY, intake_report

AGENCY_COLUMNS = [
    Column("Cơ quan, đơn vị", "Agency", "text", 36), Column("Số học viên", "Members", "integer", 12),
    Column("Học viên hoàn thành tất cả khóa học", "Members who completed every course", "integer", 16),
    Column("Lượt được giao", "Assignments", "integer", 12), Column("Lượt đã ghi danh", "Enrolled", "integer", 12),
    Column("Lượt đã hoàn thành", "Completed", "integer", 12),
    Column("Lượt hoàn thành đúng hạn", "Completed by the deadline", "integer", 14),
    Column("Tỷ lệ hoàn thành (%)", "Completion rate (%)", "percent", 12),
    Column("Hoàn thành / được giao", "Completed / assigned", "text", 22),
]
COURSE_COLUMNS = [
    Column("Khóa học", "Course", "text", 36), Column("Mã khóa học", "Course code", "code", 22),
    *AGENCY_COLUMNS[3:],
]
OVERDUE_COLUMNS = [
    Column("Họ và tên", "Full name", "text", 28), Column("Cơ quan, đơn vị", "Agency", "text", 36),
    *COURSE_COLUMNS[:2], Column("Đã ghi danh", "Enrolled", "text", 12),
    Column("Mã học viên", "Learner id", "code", 38),
]
WORDS = {
    "report": ("Báo cáo đợt học", "Intake report"), "province": ("Tỉnh, thành phố", "Province"),
    "courses": ("Khóa học", "Courses"), "opens": ("Mở đợt", "Opens"), "deadline": ("Hạn hoàn thành", "Deadline"),
    "as_of": ("Số liệu tính đến", "Figures as of"), "total": ("Tổng cộng", "Total"),
    "no_agency": (NO_AGENCY, "(No agency recorded)"), "yes": ("Có", "Yes"), "no": ("Chưa", "No"),
    "not_due": ("Danh sách quá hạn: chưa đến hạn hoàn thành", "Overdue list: the deadline has not passed"),
    "overdue": ("Danh sách quá hạn: {n} lượt chưa hoàn thành sau hạn", "Overdue list: {n} assignments not "
                                                                      "completed after the deadline"),
    "summary": ("Tổng hợp", "Summary"), "by_course": ("Theo khóa học", "By course"),
    "overdue_sheet": ("Quá hạn", "Overdue"),
}
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}


def _figures(row) -> list[object]:  # noqa: ANN001  (AgencyReport, CourseReport or the IntakeReport total)
    return [row.assigned, row.enrolled, row.completed, row.completed_on_time, row.completion_percent,
            row.completed_of_assigned]


def report_sheets(report: IntakeReport, province_name: str, *, english: bool = False,
                  by_course: bool = True) -> list[Sheet]:
    def w(key: str, **params: object) -> str:
        return WORDS[key][1 if english else 0].format(**params)

    intake = report.intake
    facts = [(w("report"), intake.name), (w("province"), province_name),
             (w("courses"), "; ".join(f"{c.title or c.slug} ({c.slug})" for c in intake.courses)),
             (w("opens"), intake.opens_at), (w("deadline"), intake.deadline), (w("as_of"), report.as_of)]
    agencies = [[a.agency or w("no_agency"), a.members, a.members_completed, *_figures(a)]
                for a in report.by_agency]
    agencies.append([w("total"), report.members, report.members_completed, *_figures(report)])
    sheets = [Sheet(w("summary"), AGENCY_COLUMNS, agencies, preamble=facts)]
    if by_course:
        sheets.append(Sheet(w("by_course"), COURSE_COLUMNS,
                            [[c.course.title or c.course.slug, c.course.slug, *_figures(c)]
                             for c in report.by_course]))
    if report.deadline_passed:
        sheets.append(Sheet(w("overdue_sheet"), OVERDUE_COLUMNS, title=w("overdue", n=report.overdue_count), rows=[
            [o.full_name, o.agency or w("no_agency"), o.course_title or o.course, o.course,
             w("yes") if o.enrolled else w("no"), str(o.user_id)]
            for o in report.overdue]))
    else:
        sheets.append(Sheet(w("overdue_sheet"), [], title=w("not_due")))
    return sheets


async def intake_report_file(session: AsyncSession, intake: Intake, fmt: Literal["csv", "xlsx"], *,
                             english: bool = False) -> tuple[bytes, str]:
    """The report as CSV (docs/intakes.md's sections, no by-course table: its layout is fixed) or XLSX, with
    its file name; the whole overdue list."""
    report = await intake_report(session, intake, overdue_limit=None)
    province = (await load_geography(session)).current.get(intake.province_code)
    province_name = f"{intake.province_code} – {province.name}" if province else intake.province_code
    if fmt == "csv":
        data = await csv_bytes(report_sheets(report, province_name, english=english, by_course=False))
    else:
        data = await xlsx_bytes(report_sheets(report, province_name, english=english), english=english)
    name = re.sub(r"[^a-z0-9]+", "-", search_key(intake.name)).strip("-")[:60]
    return data, f"bao-cao-dot-hoc-{name}-{intake.id.hex[:8]}.{fmt}"
