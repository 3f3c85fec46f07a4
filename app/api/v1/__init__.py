"""Every v1 router, in the order they appear in the docs."""

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
    ops,
    programmes,
    provinces,
    quizzes,
    stats,
    users,
)

ROUTERS = [auth.router, users.router, provinces.router, courses.router, admin_packages.router,
           media.router, certificates.router, verify_page.router,
           learning.router, quizzes.router, completions.router, stats.router, cohorts.router, programmes.router,
           ops.router]
