"""Request id, language, access log and Prometheus metrics, as one pure-ASGI middleware (cheap per request)."""

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response
from app.core.faults import RETRY_AFTER_S, outage
from app.core.i18n import messages, negotiate, set_language, t
from app.core.logging import request_id_var

log = logging.getLogger("hocso.access")
errors_log = logging.getLogger("hocso.errors")
REQUESTS = Counter("hocso_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("hocso_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
messages({
    "database_unavailable": ("Cơ sở dữ liệu tạm thời không truy cập được. Vui lòng thử lại sau ít phút.",
                             "The database is unavailable for the moment. Please try again shortly."),
    "storage_unavailable": ("Kho lưu trữ tệp tạm thời không truy cập được. Vui lòng thử lại sau ít phút.",
                            "File storage is unavailable for the moment. Please try again shortly."),
})
_VALID_ID = re.compile(r"^[\w.-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        request_id_var.set(request_id)
        set_language(negotiate(headers.get(b"accept-language", b"").decode("latin-1")))
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500
        status_sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client went away mid-upload: nobody to answer, and nothing went wrong on our side.
            log.info("client disconnected", extra={"method": scope["method"], "path": scope.get("path")})
            status = 499  # nginx's name for it, so the access log and metrics tell it apart
        except Exception as exc:
            # Answered here, inside Starlette's outermost error middleware, which would re-raise after its own
            # answer and make the server drop the keep-alive connection; this one also carries X-Request-ID.
            down = outage(exc)
            if down is None:
                errors_log.exception("unhandled error", extra={"path": scope.get("path")})
            else:
                errors_log.warning("%s unavailable: %s", down, type(exc).__name__, extra={"path": scope.get("path")})
            if status_sent:
                raise  # the answer had started: nothing sensible can follow it on this connection
            if down is None:
                status, response = 500, problem_response(scope["path"], request_id, 500, "internal_error",
                                                         t("internal_error", request_id=request_id))
            else:  # an outage, not a bug: come back shortly
                status, response = 503, problem_response(
                    scope["path"], request_id, 503, f"{down}_unavailable", t(f"{down}_unavailable"),
                    headers={"Retry-After": str(RETRY_AFTER_S)})
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            log.info("request", extra={"method": scope["method"], "path": template, "status": status,
                                       "duration_ms": round(elapsed * 1000, 1)})
