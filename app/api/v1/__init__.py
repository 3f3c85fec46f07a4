"""Every router, in the order a request is matched against them: the busiest first.

FastAPI 0.165 tries a request against the routes one by one, each router's twice (once to find it, once to
dispatch), at ~3.5 µs a route: in-process `/healthz`, behind 66 routes, costs 292-331 µs of CPU and 62-77 µs
with its router first (`python -m bench.micro routes`, docs/benchmarks.md 2026-12-03). So the learners'
heartbeats and lessons come first, then the ministry's reading, then everything rarer; the health probes
last, as they are cheap however far they walk. Paths never overlap across routers, so the order changes no
answer. The docs group routes by tag (`app.main.TAGS`), not by this order.
"""

from app.api import verify_page
from app.api.v1 import (
    admin_packages,
    auth,
    certificates,
    cohorts,
    completions,
    courses,
    learning,
    media,
    oidc,
    ops,
    phone,
    programmes,
    provinces,
    quizzes,
    stats,
    users,
)

ROUTERS = [learning.router, courses.router, quizzes.router, media.router, auth.router, users.router,
           stats.router, completions.router, certificates.router, verify_page.router, provinces.router,
           cohorts.router, programmes.router, admin_packages.router, oidc.router, phone.router, ops.router]
