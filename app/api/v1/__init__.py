"""Every v1 router, in the order they appear in the docs."""

from app.api.v1 import ops, provinces

ROUTERS = [provinces.router, ops.router]
