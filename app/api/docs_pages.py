"""The API reference: interactive at /docs (Swagger UI 5), readable at /redoc (ReDoc), both served from files
vendored in this package.

Swagger UI 4 cannot read the OpenAPI 3.1 document FastAPI writes ("Unable to render this definition"); 5.x can.
The files are the pinned `swagger-ui-dist` npm package (see its VENDORED.txt), so /docs works with no internet.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor" / f"swagger-ui-dist-{SWAGGER_UI_VERSION}"
ASSETS = f"/static/swagger-ui-{SWAGGER_UI_VERSION}"  # versioned path: browsers never mix two releases' files
REDOC_VERSION = "2.5.4"
REDOC_DIR = SWAGGER_UI_DIR.parent / f"redoc-{REDOC_VERSION}"
REDOC_ASSETS = f"/static/redoc-{REDOC_VERSION}"

# Authorize keeps its token across reloads, and every answer shows how long it took.
SWAGGER_UI_PARAMETERS = {"persistAuthorization": True, "displayRequestDuration": True, "docExpansion": "list",
                         "defaultModelsExpandDepth": 0}


def mount_docs(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    app.mount(REDOC_ASSETS, StaticFiles(directory=REDOC_DIR), name="redoc")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="HocSo API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title="HocSo API",
                              redoc_js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/favicon-32x32.png", with_google_fonts=False)
        # ReDoc's sidebar shows its maker's logo from cdn.redoc.ly: images from this server only, so the page
        # never calls out (the logo is simply not shown).
        page.headers["Content-Security-Policy"] = "img-src 'self' data:"
        return page
