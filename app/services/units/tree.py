"""The units of a province (agencies and communes) and the officials attached to them."""

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.core.i18n import messages
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import Audience, User
from app.models.units import OrgUnit, UnitCreate, UnitKind, UnitOfficial
from app.services.geo import load_geography
from app.services.identity import accounts as identity
from app.services.units.scope import admin_province, may_manage

messages({
    "unit_code_taken": ("Tỉnh, thành phố {province} đã có đơn vị mã {unit_code}.",
                        "Province {province} already has a unit with code {unit_code}."),
    "unit_not_found": ("Không tìm thấy đơn vị.", "Unit not found."),
    "unit_user_not_found": ("Không tìm thấy người dùng.", "User not found."),
    "unit_not_an_official": ("Chỉ cán bộ, công chức, viên chức mới gắn được với đơn vị.",
                             "Only officials can be attached to a unit."),
    "unit_official_other_province": (
        "Cán bộ này thuộc tỉnh, thành phố khác với đơn vị ({province}).",
        "This official belongs to another province than the unit ({province})."),
})


async def create_unit(session: AsyncSession, admin: User, data: UnitCreate) -> OrgUnit:
    """A new unit in the admin's province (a ministry admin: any current one); codes are unique per province."""
    province = await admin_province(session, admin, data.province_code, field="province_code")
    unit = OrgUnit(province_code=province, code=data.code.strip().upper(), name=data.name.strip(),
                   name_key=search_key(data.name), kind=data.kind)
    try:
        async with session.begin_nested():
            session.add(unit)
            await session.flush()
    except IntegrityError:
        # `unit_code`, not `code`: HocSoError takes `code` as the problem's own name (a 500 schemathesis found).
        raise Conflict("unit_code_taken", errors=[FieldError("unit_code_taken", field="code", province=province,
                                                             unit_code=unit.code)],
                       province=province, unit_code=unit.code) from None
    return unit


async def list_units(session: AsyncSession, admin: User, province: str | None) -> list[OrgUnit]:
    """Every unit of one province, by code."""
    province = await admin_province(session, admin, province)
    return list((await session.execute(
        select(OrgUnit).where(OrgUnit.province_code == province).order_by(OrgUnit.code))).scalars())


async def units_by_code(session: AsyncSession, province: str) -> dict[str, OrgUnit]:
    rows = await session.execute(select(OrgUnit).where(OrgUnit.province_code == province))
    return {unit.code: unit for unit in rows.scalars()}


def new_unit(province: str, code: str, name: str, kind: UnitKind) -> OrgUnit:
    return OrgUnit(province_code=province, code=code, name=name, name_key=search_key(name), kind=kind)


async def get_unit(session: AsyncSession, admin: User, unit_id: uuid.UUID) -> OrgUnit:
    """A unit the admin may manage; another province's looks missing (404), so its existence does not leak."""
    unit = await session.get(OrgUnit, unit_id)
    if unit is None or not may_manage(admin, unit.province_code):
        raise NotFound("unit_not_found")
    return unit


async def unit_for_agency(session: AsyncSession, province: str | None, agency: str | None) -> OrgUnit | None:
    """The unit of the official's province whose name is the agency they typed (accents and case aside),
    when exactly one is."""
    if not province or not agency or not search_key(agency):
        return None
    found = list((await session.execute(select(OrgUnit).where(
        OrgUnit.province_code == province, OrgUnit.name_key == search_key(agency)).limit(2))).scalars())
    return found[0] if len(found) == 1 else None


async def attach_official(session: AsyncSession, admin: User, user_id: uuid.UUID,
                          unit_id: uuid.UUID | None) -> uuid.UUID | None:
    """Attach an official to a unit of their own province (`unit_id`), or, with none given, to the unit their
    agency names if exactly one does. Both must be in the admin's province (a ministry admin: any); a user
    or unit outside it looks missing (404). Returns the official's unit (None: still without one)."""
    user = await session.get(User, user_id)
    if user is None or not may_manage(admin, await _current(session, user.province_code)):
        raise NotFound("unit_user_not_found")
    if user.audience != Audience.official:
        raise Conflict("unit_not_an_official")
    province = await _current(session, user.province_code)
    if unit_id is None:
        unit = await unit_for_agency(session, province, user.agency)
    else:
        unit = await get_unit(session, admin, unit_id)
        if unit.province_code != province:
            raise ValidationFailed(errors=[FieldError("unit_official_other_province", field="unit_id",
                                                      province=unit.province_code)])
    attached = await session.get(UnitOfficial, user.id)
    if unit is None:
        return attached.unit_id if attached else None
    if attached is None:
        session.add(UnitOfficial(user_id=user.id, unit_id=unit.id, attached_by=admin.id))
    elif attached.unit_id != unit.id:
        attached.unit_id, attached.attached_by, attached.attached_at = unit.id, admin.id, utcnow()
    await session.flush()
    return unit.id


async def _current(session: AsyncSession, code: str | None) -> str:
    geo = await load_geography(session)
    return (geo.current_code(code) if code else None) or ""


async def verify_official(session: AsyncSession, admin: User, user_id: uuid.UUID,
                          unit_id: uuid.UUID | None) -> User:
    """Verify an official (identity's rules) and attach them to a unit: the one given, else the one their
    agency names, if exactly one does (else they stay without a unit until an admin attaches them)."""
    user = await identity.verify_official(session, admin, user_id)
    await attach_official(session, admin, user.id, unit_id)
    return user
