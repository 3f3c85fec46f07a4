"""Version 1 of the API. The prefix rule: every router here is made by `v1_router`, so its paths sit under
`/api/v1` and name only their domain's segment (`v1_router("/stats")`); unversioned addresses live in
`app/api/` itself. `app/api/routes.py` includes them all, in traffic order."""

from typing import Any

from fastapi import APIRouter

V1 = "/api/v1"


def v1_router(prefix: str = "", **options: Any) -> APIRouter:
    return APIRouter(prefix=V1 + prefix, **options)
