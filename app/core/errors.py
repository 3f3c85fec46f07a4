"""Domain errors carry their HTTP status; one set of handlers renders every error as RFC 9457 problem+json."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.i18n import t

log = logging.getLogger("hocso.errors")
PROBLEM_JSON = "application/problem+json"


class FieldError(dict):
    """One bad field, file or row: `{field|file|row, line?, column?, message}`; message may be an i18n key.

    A `column=` keyword is a message parameter (CSV readers name a header column with it); a parser's column
    in a file (from 1) is set as `error["column"]`, as `content.packages.problems.problem` does."""

    def __init__(self, message: str, *, field: str | None = None, file: str | None = None,
                 line: int | None = None, row: int | None = None, **params: Any) -> None:
        super().__init__()
        for key, value in (("field", field), ("file", file), ("line", line), ("row", row)):
            if value is not None:
                self[key] = value
        self["message"] = message
        self.params = params

    def render(self) -> dict[str, Any]:
        return {**self, "message": t(self["message"], **self.params)}


class HocSoError(Exception):
    """Base for errors the API shows to clients. `code` names both the problem type and the message key."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, code: str | None = None, *, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 **params: Any) -> None:
        self.code = code or self.code
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        self.params = params
        super().__init__(self.code)


class BadRequest(HocSoError):
    status, code = 400, "bad_request"


class Unauthorized(HocSoError):
    status, code = 401, "unauthorized"

    def __init__(self, code: str | None = None, **kwargs: Any) -> None:
        super().__init__(code, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="hocso"')


class Forbidden(HocSoError):
    status, code = 403, "forbidden"


class NotFound(HocSoError):
    status, code = 404, "not_found"


class Conflict(HocSoError):
    status, code = 409, "conflict"


class PayloadTooLarge(HocSoError):
    status, code = 413, "payload_too_large"


class ValidationFailed(HocSoError):
    status, code = 422, "validation_failed"


class RateLimited(HocSoError):
    status, code = 429, "rate_limited"

    def __init__(self, retry_after: int, code: str | None = None, **kwargs: Any) -> None:
        super().__init__(code, retry_after=retry_after, **kwargs)
        self.headers["Retry-After"] = str(retry_after)


class ServiceUnavailable(HocSoError):
    status, code = 503, "not_ready"


def problem(request: Request, status: int, code: str, detail: str, *, errors: list[dict] | None = None,
            headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> JSONResponse:
    return problem_response(request.url.path, getattr(request.state, "request_id", None), status, code, detail,
                            errors=errors, headers=headers, extra=extra)


def problem_response(path: str, request_id: str | None, status: int, code: str, detail: str, *,
                     errors: list[dict] | None = None, headers: dict[str, str] | None = None,
                     extra: dict[str, Any] | None = None) -> JSONResponse:
    """The problem+json answer; also used by middleware, which has a scope but no Request."""
    body: dict[str, Any] = {
        "type": f"/problems/{code.replace('_', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": path,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form")]
    return ".".join(parts) or str(loc[-1] if loc else "")


def validation_errors(raw: list[dict]) -> list[dict]:
    """Translate pydantic's errors into `{field, message}` in the request's language."""
    rendered = []
    for err in raw:
        kind = err.get("type", "invalid")
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        key = f"v.{kind}"
        message = t(key, **ctx) if t(key) != key else None
        if message is None:
            # Custom validators raise PydanticCustomError whose type is a registered message key.
            message = t(kind, **ctx) if t(kind) != kind else err.get("msg", t("v.invalid"))
        rendered.append({"field": _field_path(tuple(err.get("loc", ()))), "message": message})
    return rendered


def allowed_methods(app: FastAPI, path: str) -> str:
    """Every method some route serves at `path`, for a 405's `Allow` (HEAD only where a route serves it)."""
    methods: set[str] = set()
    for route in iter_route_contexts(list(app.routes)):
        regex, served = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and served and regex.match(path):
            methods |= set(served)
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HocSoError)
    async def _domain(request: Request, exc: HocSoError) -> JSONResponse:
        return problem(request, exc.status, exc.code, t(exc.code, **exc.params),
                       errors=[e.render() for e in exc.errors], headers=exc.headers, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(request, 422, "validation_failed", t("validation_failed"),
                       errors=validation_errors(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            code, detail = "not_found", t("route_not_found", path=request.url.path)
        elif exc.status_code == 405:
            code, detail = "method_not_allowed", t("method_not_allowed", method=request.method)
            # The router names only the first route that matched the path; a path served by several (GET and
            # PATCH /users/me) must list them all.
            return problem(request, 405, code, detail,
                           headers={**(exc.headers or {}), "Allow": allowed_methods(request.app, request.url.path)})
        else:
            code, detail = "bad_request", str(exc.detail)
        return problem(request, exc.status_code, code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(request, 500, "internal_error", t("internal_error", request_id=request_id))
