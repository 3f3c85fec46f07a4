"""Outages told apart from bugs: a database or object store that cannot be reached is a 503 with Retry-After
(the client should come back), never a 500 `internal-error` (which says the request itself broke something).

The fault pass stopped PostgreSQL under load and got 155 answers of 500; stopping the S3 server made package
uploads 500 too. The pool recovers by itself once the database is back (stale connections are replaced at
checkout), so the answer in between only has to be honest.
"""

from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as StorageConnectionError
from sqlalchemy import exc as sa

RETRY_AFTER_S = 5
_MAX_CHAIN = 10


def _one_outage(exc: BaseException) -> str | None:
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return "database"
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.TimeoutError)):
        return "database"  # includes a pool checkout that timed out and SQLite's "database is locked"
    module = type(exc).__module__
    if module.startswith("asyncpg") and type(exc).__name__ in (
            "ConnectionDoesNotExistError", "CannotConnectNowError", "ConnectionFailureError",
            "InterfaceError", "TooManyConnectionsError", "AdminShutdownError", "CrashShutdownError"):
        return "database"
    if isinstance(exc, StorageConnectionError):  # endpoint unreachable, connect or read timed out
        return "storage"
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return "storage" if status >= 500 else None  # SlowDown, InternalError, ServiceUnavailable
    if isinstance(exc, (ConnectionError, TimeoutError)):  # a socket refused, reset or timed out
        return "database"
    return None


def outage(exc: BaseException) -> str | None:
    """Which dependency is down ("database" or "storage") if `exc`, or what it was raised from, says one is."""
    seen: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if seen is None:
            return None
        if (found := _one_outage(seen)) is not None:
            return found
        seen = seen.__cause__ or seen.__context__
    return None
