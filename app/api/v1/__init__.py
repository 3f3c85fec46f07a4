"""Every v1 router, in the order they appear in the docs."""

from app.api.v1 import auth, media, ops, provinces, users

ROUTERS = [auth.router, users.router, provinces.router, media.router, ops.router]
