"""Every v1 router, in the order they appear in the docs."""

from app.api import verify_page
from app.api.v1 import auth, certificates, media, ops, provinces, users

ROUTERS = [auth.router, users.router, provinces.router, media.router, certificates.router, verify_page.router,
           ops.router]
