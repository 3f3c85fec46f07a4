"""Provincial units and the roll-up of former codes into the units that absorbed them."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.geo import AdminUnit


@dataclass(frozen=True)
class Geography:
    """All units, loaded once: the table is reference data that only migrations change."""

    current: dict[str, AdminUnit]
    former: dict[str, AdminUnit]

    def is_known(self, code: str) -> bool:
        return code in self.current or code in self.former

    def current_code(self, code: str) -> str | None:
        """The current unit a code belongs to: itself if current, else the former unit's successor."""
        if code in self.current:
            return code
        unit = self.former.get(code)
        return unit.successor_code if unit else None

    def former_codes_of(self, current_code: str) -> list[str]:
        return sorted(c for c, u in self.former.items() if u.successor_code == current_code)


_cache: Geography | None = None


async def load_geography(session: AsyncSession) -> Geography:
    global _cache
    if _cache is None:
        units = (await session.execute(select(AdminUnit).order_by(AdminUnit.code))).scalars().all()
        for unit in units:
            # Detached, so a later rollback of this session cannot expire the cached rows under us.
            session.expunge(unit)
        _cache = Geography(
            current={u.code: u for u in units if u.valid_to is None},
            former={u.code: u for u in units if u.valid_to is not None},
        )
    return _cache


async def list_provinces(session: AsyncSession, *, include_former: bool) -> list[AdminUnit]:
    """Current units, then (on request) the former ones with their successor codes."""
    geo = await load_geography(session)
    units = list(geo.current.values())
    if include_former:
        units += list(geo.former.values())
    return units
