from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.api.deps import DatabaseDep, KeysDep
from app.api.problems import problem
from app.core.errors import ServiceUnavailable

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve: the database answers",
            responses={503: problem("Database unreachable (problem+json)")})
async def readyz(db: DatabaseDep) -> dict[str, str]:
    try:
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means "not ready"
        raise ServiceUnavailable(reason="database") from exc
    return {"status": "ready"}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/.well-known/jwks.json", summary="Public keys that verify our tokens and credentials")
async def jwks(keys: KeysDep, response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()
