import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.api.deps import DatabaseDep, KeysDep, SettingsDep, StorageDep
from app.api.problems import problem
from app.core.errors import ServiceUnavailable, Unauthorized
from app.core.faults import RETRY_AFTER_S

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve: the database and the object store answer",
            responses={503: problem("Database or storage unreachable: `reason` names which; Retry-After")})
async def readyz(db: DatabaseDep, storage: StorageDep) -> dict[str, str]:
    try:
        # Transaction exception «readiness probe» (docs/architecture.md).
        async with db.autocommit() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means "not ready"
        raise ServiceUnavailable(reason="database", headers={"Retry-After": str(RETRY_AFTER_S)},
                                 extra={"reason": "database"}) from exc
    try:
        await storage.ready()
    except Exception as exc:  # noqa: BLE001 - nor does any failure to reach the store
        raise ServiceUnavailable(reason="storage", headers={"Retry-After": str(RETRY_AFTER_S)},
                                 extra={"reason": "storage"}) from exc
    return {"status": "ready"}


@router.get("/metrics", summary="Prometheus metrics (with HOCSO_METRICS_TOKEN as a bearer token when set)",
            response_class=Response,
            responses={401: problem("Missing or wrong metrics token")})
async def metrics(settings: SettingsDep,
                  authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> Response:
    """Request counts and latencies per route. Not public: route names, rates and errors tell an attacker
    what is busy and what fails, so production requires the token (docs/operations.md)."""
    if settings.metrics_token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
            raise Unauthorized()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/.well-known/jwks.json", summary="Public keys that verify our tokens and credentials")
async def jwks(keys: KeysDep, response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()
