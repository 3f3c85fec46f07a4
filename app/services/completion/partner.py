"""Completions reported by partner systems and in-person classes, counted exactly like platform completions.

A partner names the learner by citizen identity number (kept only as a keyed hash) or phone; the learner's
account is found or created (without a password: they can claim it later through account recovery). Each
completion goes through `record_completion`, so the same uniqueness and counters apply. A partner's
`external_ref` makes a report idempotent: sending it again returns the original completion, whatever else the
repeat says.

The partner's `audience` is recorded on the completion of a learner it creates (partners are vetted systems
accountable for it); an existing learner's completion carries the learner's own audience, whatever the report
says. An account created here as an official still needs a province admin's verification on the platform.

A province-scoped client stays in its province: it may match and create only learners of its own province, and
a report naming a learner of another province (or of none) is refused without a word about that learner, and
such refusals are bounded per client (`refusals.py`).

A report naming the national ID attests it: the learner's assurance becomes at least `partner`, and the
completion snapshots the learner's assurance after that (an e-ID learner's stays `eid`). A report naming only
a phone proves nothing about the learner: their assurance stays as it is.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, Forbidden, RateLimited, ValidationFailed, validation_errors
from app.core.i18n import messages
from app.core.localtime import local_date
from app.core.text import search_key
from app.models.base import utcnow
from app.models.completion import Completion
from app.models.course import Course, CourseVersion
from app.models.identity import Assurance, Audience, Role, User
from app.models.identity_fields import normalise_name, normalise_phone, normalise_text
from app.models.reporting import FeedCompletion, PartnerBatchOut, PartnerCompletionIn, PartnerResult
from app.services.completion.completions import record_completion
from app.services.completion.refusals import LookupsLimited, RefusalBudget
from app.services.content.catalogue import lookup_course
from app.services.geo import Geography, load_geography
from app.services.identity import citizen_ids
from app.services.identity.assurance import raise_assurance

CLOCK_SKEW = timedelta(minutes=5)  # a partner's clock may run a little ahead of ours

messages({
    "partner_learner_id_required": ("Cần số định danh cá nhân (national_id) hoặc số điện thoại (phone).",
                                    "Give the learner's national_id or phone."),
    "partner_course_unknown": ("Không có khóa học {course}.", "There is no course {course}."),
    "partner_province_unknown": ("Không có tỉnh/thành phố mã {code}.",
                                 "There is no province with code {code}."),
    "partner_other_province": ("Ứng dụng này chỉ được báo hoàn thành cho tỉnh/thành phố {own}.",
                               "This client may only report completions for province {own}."),
    "partner_completed_in_future": ("Thời điểm hoàn thành không được ở tương lai.",
                                    "The completion time cannot be in the future."),
    # Every reason a scoped client cannot match or create the learner an identifier names reads the same.
    "partner_learner_elsewhere": ("Ứng dụng này không thể báo hoàn thành với định danh này.",
                                  "This client cannot report a completion under this identifier."),
    "partner_not_a_learner": ("Tài khoản mà định danh này chỉ tới không phải người học đang hoạt động "
                              "(đã bị khóa, hoặc là tài khoản quản trị).",
                              "The account this identifier names is not an active learner "
                              "(deactivated, or a staff account)."),
    "partner_scope_unknown": ("Phạm vi tỉnh/thành phố của ứng dụng này không hợp lệ.",
                              "This client's province scope is not a known province."),
    "partner_identity_conflict": (
        "Số định danh và số điện thoại thuộc về hai người học khác nhau.",
        "The national ID and the phone number belong to two different learners.",
    ),
})


@dataclass
class Checked:
    """A report that passed every check, with what it names looked up."""

    data: PartnerCompletionIn
    phone: str | None
    national_id_hash: str | None
    course: Course
    course_version: int
    completed_at: datetime


@dataclass
class Partner:
    """The reporting client and what one request looks up once for all its rows."""

    client_id: str
    secret_key: str
    geo: Geography
    province: str | None  # a province-scoped client's own (current) unit
    refusals: RefusalBudget | None = None  # a scoped client's budget of refused lookups (None: unbounded)
    now: datetime = field(default_factory=utcnow)
    courses: dict[str, tuple[Course, int] | None] = field(default_factory=dict)


async def _partner(session: AsyncSession, client_id: str, secret_key: str, scoped: str | None,
                   refusals: RefusalBudget | None) -> Partner:
    geo = await load_geography(session)
    if scoped is None:
        return Partner(client_id, secret_key, geo, None)
    own = geo.current_code(scoped)
    if own is None:  # fail closed: an unknown scope must never read as "no scope"
        raise Forbidden("partner_scope_unknown")
    return Partner(client_id, secret_key, geo, own, refusals)


async def record_partner_completion(session: AsyncSession, *, client_id: str, secret_key: str,
                                    data: PartnerCompletionIn, scoped_province: str | None = None,
                                    refusals: RefusalBudget | None = None) -> PartnerResult:
    """One partner completion: checked (422 naming each bad field), then recorded once per external_ref.
    A province-scoped client reports only for its own province (former units included); past its refusal
    budget, a report that would be refused or create a learner is 429."""
    partner = await _partner(session, client_id, secret_key, scoped_province, refusals)
    checked = await _check(session, partner, data)
    if isinstance(checked, list):
        raise ValidationFailed(errors=checked)
    result = await _record(session, partner, checked)
    if isinstance(result, LookupsLimited):
        raise RateLimited(result.retry_after, "partner_lookups_limited")
    if isinstance(result, FieldError):
        raise ValidationFailed(errors=[result])
    return result


async def record_partner_batch(session: AsyncSession, *, client_id: str, secret_key: str,
                               items: list[dict[str, Any]], strict: bool = False,
                               scoped_province: str | None = None,
                               refusals: RefusalBudget | None = None) -> PartnerBatchOut:
    """Up to 1,000 reports, each checked and recorded on its own: one bad row never stops the others, and each
    row's result says what happened (`row` is its index). With `strict`, any bad row rejects the whole batch
    (422 naming every bad row and field) and nothing is recorded. A row held back by a spent refusal budget
    is rejected with `retry_after` (a 429 for the whole batch would undo its good rows); with `strict`, the
    batch is 429."""
    partner = await _partner(session, client_id, secret_key, scoped_province, refusals)
    checked: list[Checked | list[FieldError]] = []
    for row, raw in enumerate(items):
        try:
            data = PartnerCompletionIn.model_validate(raw)
        except ValidationError as exc:
            checked.append([FieldError(e["message"], field=e["field"], row=row)
                            for e in validation_errors(list(exc.errors()))])
            continue
        outcome = await _check(session, partner, data)
        for error in outcome if isinstance(outcome, list) else []:
            error["row"] = row
        checked.append(outcome)
    if strict and (bad := [e for c in checked if isinstance(c, list) for e in c]):
        raise ValidationFailed(errors=bad)

    results = []
    for row, outcome in enumerate(checked):
        if isinstance(outcome, list):
            results.append(PartnerResult(row=row, status="rejected", errors=[e.render() for e in outcome]))
            continue
        result = await _record(session, partner, outcome)
        if isinstance(result, LookupsLimited) and strict:
            raise RateLimited(result.retry_after, "partner_lookups_limited")
        if isinstance(result, FieldError):
            result["row"] = row
            if strict:
                raise ValidationFailed(errors=[result])
            result = PartnerResult(status="rejected", errors=[result.render()])
        result.row = row
        results.append(result)
    tally = {s: sum(r.status == s for r in results) for s in ("created", "duplicate", "already_completed",
                                                              "rejected")}
    return PartnerBatchOut(created=tally["created"], duplicates=tally["duplicate"],
                           already_completed=tally["already_completed"], rejected=tally["rejected"],
                           results=results)


async def _check(session: AsyncSession, partner: Partner,
                 data: PartnerCompletionIn) -> Checked | list[FieldError]:
    """Every problem with one report, each naming its field; or the report with what it names looked up."""
    errors: list[FieldError] = []

    def fail(message: str, at: str, **params: Any) -> None:
        errors.append(FieldError(message, field=at, **params))

    try:
        data.full_name = normalise_name(data.full_name)
    except PydanticCustomError as exc:
        fail(exc.type, "full_name")
    data.agency = normalise_text(data.agency) or None if data.agency else None

    phone = national_id_hash = None
    if not (data.national_id or data.phone):
        fail("partner_learner_id_required", "national_id")
    if data.national_id:
        today = local_date(partner.now)
        if citizen_ids.is_citizen_id(data.national_id, partner.geo.former, today):
            national_id_hash = citizen_ids.hash_citizen_id(partner.secret_key, data.national_id)
        else:
            fail("national_id_invalid", "national_id")
    if data.phone:
        try:
            phone = normalise_phone(data.phone)
        except PydanticCustomError as exc:
            fail(exc.type, "phone")
    if not partner.geo.is_known(data.province_code):
        fail("partner_province_unknown", "province_code", code=data.province_code)
    elif partner.province and partner.geo.current_code(data.province_code) != partner.province:
        fail("partner_other_province", "province_code", own=partner.province)
    completed_at = data.completed_at or partner.now
    if completed_at > partner.now + CLOCK_SKEW:
        fail("partner_completed_in_future", "completed_at")

    if data.course not in partner.courses:
        partner.courses[data.course] = await _course_with_version(session, data.course)
    found = partner.courses[data.course]
    if found is None:
        fail("partner_course_unknown", "course", course=data.course)
    if errors or found is None:
        return errors
    return Checked(data=data, phone=phone, national_id_hash=national_id_hash, course=found[0],
                   course_version=found[1], completed_at=completed_at)


async def _course_with_version(session: AsyncSession, slug: str) -> tuple[Course, int] | None:
    """The course and the version a completion records: the published one, else the newest."""
    course = await lookup_course(session, slug)
    if course is None:
        return None
    versions = (await session.execute(select(CourseVersion.version, CourseVersion.status)
                                      .where(CourseVersion.course_id == course.id))).all()
    if not versions:
        return None
    published = [v for v, status in versions if status == "published"]
    return course, (published[0] if published else max(v for v, _ in versions))


async def _record(session: AsyncSession, partner: Partner, c: Checked) -> PartnerResult | FieldError:
    """Record one checked report in its own savepoint, so a failure undoes only this row."""
    for attempt in range(2):
        existing = await _by_reference(session, partner.client_id, c.data.external_ref)
        if existing is not None:
            return await _result(session, partner, "duplicate", existing)
        try:
            async with session.begin_nested():
                found = await _find_or_create_learner(session, partner, c)
                if isinstance(found, FieldError):
                    return found
                learner, is_new = found
                completion, created = await record_completion(
                    session, user=learner, course=c.course, course_version=c.course_version,
                    completed_at=c.completed_at, source="partner", client_id=partner.client_id,
                    external_ref=c.data.external_ref,
                    audience=c.data.audience if is_new else learner.audience,
                    province_code=c.data.province_code)
        except IntegrityError:
            # Another request created the same learner (phone or ID) a moment ago: look again, once.
            if attempt:
                raise
            continue
        if created:
            status = "created"
        elif (completion.client_id, completion.external_ref) == (partner.client_id, c.data.external_ref):
            status = "duplicate"
        else:
            status = "already_completed"
        return await _result(session, partner, status, completion)
    raise AssertionError("unreachable")


async def _by_reference(session: AsyncSession, client_id: str, external_ref: str) -> Completion | None:
    return (await session.execute(select(Completion).where(
        Completion.client_id == client_id, Completion.external_ref == external_ref))).scalar_one_or_none()


def _outside(partner: Partner, user: User) -> bool:
    """Whether a scoped client must not see or touch this learner (no province counts as another one)."""
    if partner.province is None:
        return False
    return user.province_code is None or partner.geo.current_code(user.province_code) != partner.province


async def _find_or_create_learner(session: AsyncSession, partner: Partner,
                                  c: Checked) -> tuple[User, bool] | FieldError:
    """The account the report's national ID or phone names, given what it lacked; or a new one (`True`)."""
    by_id = by_phone = None
    if c.national_id_hash:
        by_id = (await session.execute(
            select(User).where(User.national_id_hash == c.national_id_hash))).scalar_one_or_none()
    if c.phone:
        by_phone = (await session.execute(select(User).where(User.phone == c.phone))).scalar_one_or_none()
    # Checked before anything else, so the refusal is the same whatever else is true of that learner.
    for matched, named in ((by_id, "national_id"), (by_phone, "phone")):
        if matched is not None and _outside(partner, matched):
            return await _refuse(partner, named)
    if by_id is not None and by_phone is not None and by_id.id != by_phone.id:
        return FieldError("partner_identity_conflict", field="phone")
    user = by_id or by_phone
    if user is None:
        # Past the budget, a new identifier is held back like a refused one: else 429-or-201 would still tell.
        if partner.refusals is not None and (wait := await partner.refusals.spent()) is not None:
            return LookupsLimited(wait)
        official = c.data.audience == Audience.official
        user = User(full_name=c.data.full_name, search_text=search_key(c.data.full_name, c.phone),
                    audience=c.data.audience, role=Role.learner,
                    province_code=partner.geo.current_code(c.data.province_code),
                    agency=c.data.agency if official else None, phone=c.phone,
                    national_id_hash=c.national_id_hash, password_hash=None)
        session.add(user)
    else:
        # As an intake upload does: a deactivated account, or an admin's, is not credited by a partner's word.
        if user.role != Role.learner or not user.is_active:
            return FieldError("partner_not_a_learner", field="national_id" if user is by_id else "phone")
        if c.national_id_hash and user.national_id_hash not in (None, c.national_id_hash):
            return FieldError("partner_identity_conflict", field="national_id")
        user.national_id_hash = user.national_id_hash or c.national_id_hash
        user.phone = user.phone or c.phone
    if c.national_id_hash:
        raise_assurance(user, Assurance.partner)
    await session.flush()
    return user, user is not by_id and user is not by_phone


async def _refuse(partner: Partner, named: str) -> FieldError:
    """The refusal of a learner outside a scoped client's province, counted against its budget."""
    if partner.refusals is not None and (wait := await partner.refusals.refuse(named)) is not None:
        return LookupsLimited(wait)
    return FieldError("partner_learner_elsewhere", field=named)


async def _result(session: AsyncSession, partner: Partner, status: str,
                  completion: Completion) -> PartnerResult | FieldError:
    user = await session.get(User, completion.user_id)
    course = await session.get(Course, completion.course_id)
    assert user is not None and course is not None
    if _outside(partner, user):  # the learner has moved to another province since this client reported them
        return FieldError("partner_learner_elsewhere", field="external_ref")
    item = FeedCompletion(
        id=completion.id, user_id=user.id, full_name=user.full_name, course_id=course.id,
        course_slug=course.slug,
        course_version=completion.course_version, audience=completion.audience,
        assurance=completion.assurance, province_code=completion.province_code,
        current_province_code=partner.geo.current_code(completion.province_code)
        if completion.province_code else None,
        source=completion.source, client_id=completion.client_id, external_ref=completion.external_ref,
        completed_at=completion.completed_at)
    return PartnerResult(status=status, learner_id=user.id, completion=item)  # type: ignore[arg-type]
