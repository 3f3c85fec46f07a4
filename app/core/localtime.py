"""Local time for Vietnam: the one definition of the zone the programme counts in.

Day buckets, "the year" of the national targets, dates printed on certificates and in reports are all in
Asia/Ho_Chi_Minh; times are stored in UTC. Vietnam has kept UTC+7 without daylight saving since 1975, which is why
SQLite can shift by a fixed offset (`SQLITE_OFFSET`, used by `core/dialect.py`).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)
SQLITE_OFFSET = "+7 hours"


def local_date(moment: datetime) -> date:
    """The calendar day in Vietnam at `moment` (an aware datetime)."""
    return moment.astimezone(LOCAL_TZ).date()


def local_today() -> date:
    return datetime.now(UTC).astimezone(LOCAL_TZ).date()


def local_midnight(day: date) -> datetime:
    """The UTC instant at which `day` begins in Vietnam."""
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ).astimezone(UTC)


def local_iso(day: date) -> str:
    """Midnight of a local day as ISO 8601 with its offset, as credentials print it."""
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ).isoformat()
