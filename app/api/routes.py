"""Every router, with the prefix it is mounted at, in the order a request is matched against them: busiest first.

The prefix rule: a router in `app/api/v1/` is made by `v1_router("/<domain segment>")`, so its paths sit under
`/api/v1`; unversioned addresses that are printed on paper or given to browsers and must never change (`/media`,
`/verify`, the health probes, `/.well-known/jwks.json`) live in `app/api/` itself, at the root.

Order: FastAPI tries a request against the routes one by one, each router's twice (once to find it, once to
dispatch), at ~3.5 µs a route, so the learners' heartbeats and lessons come first, then the ministry's reading,
then everything rarer; the health probes last, as they are cheap however far they walk (measured in
docs/benchmarks.md, `python -m bench.micro routes`). Paths never overlap across routers, so the order changes no
answer. The docs group routes by tag (`app.main.TAGS`), not by this order.
"""

from fastapi import APIRouter

from app.api import dashboard_page, media, ops, rankings_page, scorm_player, verify_page
from app.api.v1 import (
    access,
    admin_packages,
    auth,
    board,
    certificates,
    completions,
    contests,
    courses,
    intakes,
    learning,
    oidc,
    phone,
    programmes,
    provinces,
    quizzes,
    scorm,
    stats,
    units,
    users,
    video,
)

ROUTERS: list[APIRouter] = [
    learning.router, courses.router, quizzes.router, media.router, video.router, auth.router, users.router,
    stats.router, completions.router, certificates.router, verify_page.router, provinces.router, intakes.router,
    programmes.router, admin_packages.router, scorm.router, scorm_player.router, board.router, units.router,
    contests.router, access.router, dashboard_page.router, rankings_page.router, oidc.router, phone.router, ops.router,
]
