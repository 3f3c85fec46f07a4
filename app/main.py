"""App factory: settings, database, keys, storage, routers, middleware, error handlers and the job worker."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import NoMatchFound

import app.services.wiring  # noqa: F401  (job handlers and cross-domain reactions)
from app.api import media
from app.api.declared_answers import install_shared_answers
from app.api.docs_pages import mount_docs
from app.api.per_worker import PerWorker
from app.api.problems import install_problem_schema
from app.api.renamed import RenamedPaths
from app.api.routes import ROUTERS
from app.core.config import Settings, check_production, get_settings
from app.core.db import Database
from app.core.edge import EdgeGuard
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.security import KeyRing
from app.core.storage import Storage, build_storage
from app.services import jobs
from app.services.learning import retention

TAGS = [
    {"name": "auth", "description": "Sign-in, tokens, registration"},
    {"name": "users", "description": "The signed-in user and user administration"},
    {"name": "provinces", "description": "Provincial units (34 current, 63 former)"},
    {"name": "courses", "description": "Catalogue and lessons"},
    {"name": "course packages", "description": "Importing and publishing courses (admins)"},
    {"name": "learning", "description": "Enrollment, progress, completion"},
    {"name": "quizzes", "description": "Quiz attempts"},
    {"name": "scorm", "description": "SCORM lessons: launch, runtime, results"},
    {"name": "completions", "description": "Completion feed and partner completions"},
    {"name": "certificates", "description": "Certificates and verification"},
    {"name": "stats", "description": "National and provincial figures"},
    {"name": "intakes", "description": "Intakes (đợt học)"},
    {"name": "units", "description": "Agencies and communes, headcounts, completion rates"},
    {"name": "contests", "description": "Contests (cuộc thi) and leaderboards"},
    {"name": "ops", "description": "Health, readiness, metrics, keys"},
]

# Young collections every 50,000 net allocations instead of CPython's 700: with many requests in flight each young
# collection promoted their live objects, which soon triggered full collections that found nothing and made the
# tail of every fast endpoint (measured: docs/benchmarks.md, 2026-12-03 fix 1). Cyclic garbage waits a little
# longer.
GC_THRESHOLDS = (50_000, 20, 10)


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               storage: Storage | None = None, keys: KeyRing | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        background = []
        if settings.run_worker_in_process:
            background = [asyncio.create_task(jobs.work_forever(app.state.db, settings.job_poll_interval_s, stop)),
                          asyncio.create_task(retention.housekeeping_forever(app.state.db, settings, stop))]
        # Everything loaded so far (modules, the app, its routes and models) lives as long as the process: moved
        # out of the collector's reach, full collections stop walking it (docs/benchmarks.md, 2026-12-03 fix 1).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        yield
        await app.state.per_worker.close()  # heartbeats in flight are written before the database closes
        stop.set()
        await asyncio.gather(*background)
        if database is None:
            await app.state.db.dispose()

    app = FastAPI(
        title="HocSo API",
        version="1",
        summary="Backend of the national self-paced digital-skills learning platform",
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database or Database(settings)
    app.state.keys = keys or KeyRing.load(settings, create_dev_key=settings.env != "production")
    app.state.storage = storage or build_storage(settings)
    app.state.per_worker = PerWorker.build(settings, app.state.db)

    install_error_handlers(app)
    app.add_middleware(EdgeGuard, json_body_max_bytes=settings.json_body_max_bytes,
                       header_max_bytes=settings.header_max_bytes, body_timeout_s=settings.body_timeout_s,
                       raw_body_prefixes=media.RAW_BODY_PREFIXES)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "If-None-Match", "X-Request-ID",
                           "Range"],
            # Content-Range/Accept-Ranges/Content-Length: players reading media in ranges (docs/frontend.md)
            expose_headers=["ETag", "X-Request-ID", "Retry-After", "Location", "Content-Range", "Accept-Ranges",
                            "Content-Length", "Content-Disposition"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(RenamedPaths)
    for router in ROUTERS:
        app.include_router(router)
    install_shared_answers(app)
    install_problem_schema(app)
    mount_docs(app)
    _resolve_routes(app)
    return app


def _resolve_routes(app: FastAPI) -> None:
    """Resolve every route's dependencies now rather than on the first request: FastAPI does it lazily for all
    routes at once, which made a new worker's first request take about a second with ~90 routes."""
    with contextlib.suppress(NoMatchFound):
        app.url_path_for("")  # no route has this name: the lookup walks (and so resolves) every route


def build() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:build`."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
