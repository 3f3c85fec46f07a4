from fastapi import Response

from app.api.deps import SessionDep
from app.api.v1 import v1_router
from app.models.geo import ProvincePublic
from app.services import geo

router = v1_router("/provinces", tags=["provinces"])


@router.get("", summary="List provincial units", response_model=list[ProvincePublic])
async def list_provinces(session: SessionDep, response: Response, include_former: bool = False) -> list[ProvincePublic]:
    """The 34 units in force since 1 July 2025; with `include_former=true` also the 63 former units,
    each with the `successor_code` of the unit that absorbed it."""
    response.headers["Cache-Control"] = "public, max-age=86400"
    units = await geo.list_provinces(session, include_former=include_former)
    return [ProvincePublic(code=u.code, name=u.name, kind=u.kind, current=u.valid_to is None,
                           valid_from=u.valid_from, valid_to=u.valid_to, successor_code=u.successor_code)
            for u in units]
