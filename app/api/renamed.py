"""Addresses renamed since round 1 keep working: a request to an old path is served by the route at its new path,
and the answer says so (`Deprecation: true`, `Link: <new>; rel="successor-version"`), so clients can move on."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RENAMED = (("/api/v1/cohorts", "/api/v1/intakes"),)  # intakes (đợt học) were "cohorts" in round 1


class RenamedPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        for old, new in RENAMED:
            if path == old or path.startswith(old + "/"):
                scope = dict(scope, path=new + path[len(old):], raw_path=new.encode() + scope["raw_path"][len(old):])
                return await self.app(scope, receive, _deprecated(send, new))
        return await self.app(scope, receive, send)


def _deprecated(send: Send, successor: str) -> Send:
    async def send_with_notice(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"deprecation", b"true"),
                                  (b"link", f'<{successor}>; rel="successor-version"'.encode())]
        await send(message)
    return send_with_notice
