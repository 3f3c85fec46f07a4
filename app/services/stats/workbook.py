"""The national figures as one Excel workbook for analysts: the summary against the targets, then completions
per province, per course, per local day and per assurance level, for one period and the same filters as the
JSON stats answers (read from the same counter buckets and the same per-worker cache). With the breakdown by
assurance, the province, course and day sheets gain one column of completions per level."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import StatsCache
from app.core.spreadsheets import Column, Sheet, xlsx_bytes
from app.models.base import utcnow
from app.models.identity import Assurance, Audience
from app.models.reporting import AssuranceFigures, ByAssurance
from app.services.stats import figures as stats
from app.services.stats.query import StatsQuery

OFFICIAL, CITIZEN = Audience.official, Audience.citizen
AUDIENCE_NAMES = {OFFICIAL: ("Cán bộ, công chức, viên chức", "Officials"), CITIZEN: ("Người dân", "Citizens")}
BY_AUDIENCE = [Column("Lượt hoàn thành", "Completions", "integer", 14),
               Column("Cán bộ, công chức, viên chức", "Officials", "integer", 16),
               Column("Người dân", "Citizens", "integer", 14)]
LEARNERS = Column("Số học viên", "Learners", "integer", 12)
SUMMARY_COLUMNS = [Column("Đối tượng", "Audience", "text", 30), Column("Lượt hoàn thành", "Completions", "integer"),
                   LEARNERS, Column("Chỉ tiêu", "Target", "integer"),
                   Column("Đạt chỉ tiêu (%)", "Percent of target", "percent", 14)]
PROVINCE_COLUMNS = [Column("Mã tỉnh", "Province code", "code", 9), Column("Tỉnh, thành phố", "Province", "text", 24),
                    *BY_AUDIENCE, LEARNERS]
COURSE_COLUMNS = [Column("Khóa học", "Course", "text", 36), Column("Mã khóa học", "Course code", "code", 24),
                  *BY_AUDIENCE, LEARNERS]
DAY_COLUMNS = [Column("Ngày", "Day", "date", 12), *BY_AUDIENCE]
ASSURANCE_COLUMNS = [Column("Đối tượng", "Audience", "text", 30), Column("Mức bảo đảm", "Assurance", "text", 34),
                     Column("Mã mức", "Level", "code", 10), Column("Lượt hoàn thành", "Completions", "integer"),
                     LEARNERS, Column("Tính vào chỉ tiêu", "Counts toward the target", "text", 16)]
# The levels' names, in Assurance's order (docs/identity.md says what each proves)
ASSURANCE_NAMES = {Assurance.none: ("Chưa xác minh", "Not verified"),
                   Assurance.phone: ("Xác minh số điện thoại", "Phone verified"),
                   Assurance.partner: ("Đối tác xác nhận số định danh", "National ID attested by a partner"),
                   Assurance.eid: ("Định danh điện tử quốc gia", "National e-ID")}
LEVEL_COLUMNS = [Column(*ASSURANCE_NAMES[level], "integer", 16) for level in Assurance]
WORDS = {"summary": ("Tổng hợp", "Summary"), "provinces": ("Theo tỉnh", "By province"),
         "courses": ("Theo khóa học", "By course"), "days": ("Theo ngày", "By day"),
         "assurance": ("Theo mức bảo đảm", "By assurance"), "yes": ("Có", "Yes"), "no": ("Không", "No"),
         "from": ("Từ ngày", "From"), "to": ("Đến ngày", "To"), "province": ("Tỉnh, thành phố", "Province"),
         "course": ("Khóa học", "Course"), "all": ("Tất cả", "All"), "as_of": ("Số liệu lập lúc", "As of"),
         "unassigned": ("(Chưa ghi tỉnh)", "(No province recorded)")}


async def stats_workbook(session: AsyncSession, q: StatsQuery, cache: StatsCache, *,
                         english: bool = False, by_assurance: bool = False) -> bytes:
    """Five sheets: the summary per audience with target and percent, then per province (the 34 current
    units, former codes rolled up, and the completions with no province), per course, per day, and per audience
    and assurance level (every level shown, whether or not the programme counts it toward its target). With
    `by_assurance`, the province, course and day rows also give their completions per level, last."""
    lang = 1 if english else 0

    def w(key: str) -> str:
        return WORDS[key][lang]

    summary = await stats.summary(session, q, cache)
    provinces = await stats.provinces(session, q, "current", cache, by_assurance=by_assurance)
    courses = await stats.courses(session, q, cache, by_assurance=by_assurance)
    days = await stats.timeseries(session, q, "day", cache, by_assurance=by_assurance)
    extra = LEVEL_COLUMNS if by_assurance else []

    def split(per: dict) -> list[int]:
        return [per[OFFICIAL].completions, per[CITIZEN].completions]

    def levels(figures: ByAssurance | None) -> list[int]:
        return [figures[level.value].completions for level in Assurance] if figures is not None else []

    facts = [(w("from"), q.first_day.strftime("%d/%m/%Y")), (w("to"), q.last_day.strftime("%d/%m/%Y")),
             (w("province"), next((f"{p.code} – {p.name}" for p in provinces.items), None) if q.province
              else w("all")),
             (w("course"), q.course_slug or w("all")), (w("as_of"), utcnow())]
    audiences = [[AUDIENCE_NAMES[a][lang], f.completions, f.learners, f.target, f.percent_of_target]
                 for a, f in summary.audiences.items()]
    def by_level(audience: Audience, figures: AssuranceFigures, level: Assurance) -> list[object]:
        counts = level in summary.counted_assurance
        return [AUDIENCE_NAMES[audience][lang], ASSURANCE_NAMES[level][lang], level.value, figures.completions,
                figures.learners, w("yes") if counts else w("no")]

    assurance_rows = [by_level(a, f.assurance.get(level, AssuranceFigures()), level)
                      for a, f in summary.audiences.items() for level in Assurance]
    province_rows = [[p.code, p.name, p.completions, *split(p.audiences), p.learners, *levels(p.by_assurance)]
                     for p in provinces.items]
    if provinces.unassigned.completions:
        province_rows.append([None, w("unassigned"), provinces.unassigned.completions, None, None,
                              provinces.unassigned.learners, *levels(provinces.unassigned.by_assurance)])
    return await xlsx_bytes([
        Sheet(w("summary"), SUMMARY_COLUMNS, audiences, preamble=facts),
        Sheet(w("provinces"), [*PROVINCE_COLUMNS, *extra], province_rows),
        Sheet(w("courses"), [*COURSE_COLUMNS, *extra],
              [[c.title or c.slug, c.slug, c.completions, *split(c.audiences), c.learners, *levels(c.by_assurance)]
               for c in courses.items]),
        Sheet(w("days"), [*DAY_COLUMNS, *extra],
              [[date.fromisoformat(p.period), p.completions, p.audiences[OFFICIAL], p.audiences[CITIZEN],
                *levels(p.by_assurance)] for p in days.points]),
        Sheet(w("assurance"), ASSURANCE_COLUMNS, assurance_rows),
    ], english=english)
