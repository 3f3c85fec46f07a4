"""Every v1 router, in the order they appear in the docs."""

from app.api.v1 import media, ops, provinces

ROUTERS = [provinces.router, media.router, ops.router]
