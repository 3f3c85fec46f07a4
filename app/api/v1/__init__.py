"""Every v1 router, in the order they appear in the docs."""

from app.api.v1 import auth, learning, media, ops, programmes, provinces, quizzes, stats, users

ROUTERS = [auth.router, users.router, provinces.router, media.router, learning.router, quizzes.router,
           stats.router, programmes.router, ops.router]
