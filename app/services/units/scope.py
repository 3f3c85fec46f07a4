"""Which province an admin's unit action applies to: a province admin only their own, a ministry admin any
current province (by default their own, if they have one)."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, Forbidden, ValidationFailed
from app.core.i18n import messages
from app.models.identity import Role, User
from app.services.geo import load_geography

messages({
    "unit_other_province": ("Bạn chỉ quản lý được các đơn vị của tỉnh, thành phố mình ({own}).",
                            "You can only manage the units of your own province ({own})."),
    "unit_province_required": ("Hãy chọn tỉnh, thành phố (province).", "Choose a province (province)."),
    "unit_province_not_current": ("Mã {code} không phải tỉnh, thành phố hiện nay (34 đơn vị từ 01/7/2025).",
                                  "{code} is not a current province (the 34 units since 1 July 2025)."),
})


async def admin_province(session: AsyncSession, admin: User, requested: str | None, *,
                         field: str = "province") -> str:
    """The current province an admin acts on. A province admin naming another province is refused (403);
    a ministry admin must name a current province unless they have one of their own."""
    if admin.role == Role.province_admin:
        own = admin.province_code
        if not own or (requested is not None and requested != own):
            raise Forbidden("unit_other_province", own=own or "—")
        return own
    province = requested or admin.province_code
    if province is None:
        raise ValidationFailed(errors=[FieldError("unit_province_required", field=field)])
    geo = await load_geography(session)
    if province not in geo.current:
        raise ValidationFailed(errors=[FieldError("unit_province_not_current", field=field, code=province)])
    return province


def may_manage(admin: User, province_code: str) -> bool:
    """Whether an admin may see and change a province's units in full."""
    return admin.role == Role.ministry_admin or (
        admin.role == Role.province_admin and admin.province_code == province_code)
