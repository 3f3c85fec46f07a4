"""Text messages to phones, through a pluggable sender chosen by `HOCSO_SMS_SENDER`.

- `console`: prints each message on standard output (development only: production refuses it);
- `file`: appends each message as a JSON line to `HOCSO_SMS_FILE` (tests and local trials read codes there);
- `http`: POSTs `{"to": "+849…", "text": "…"}` as JSON to the operator's SMS gateway at `HOCSO_SMS_HTTP_URL`,
  with HTTP Basic credentials when given; any answer but 2xx is a failure.

Messages are sent after the request's unit of work has committed (never inside it), so a slow gateway
neither holds a transaction open nor changes how long the answer takes, which would tell whether a number is
registered. A failure is logged without the number or the text.
"""

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from app.core.config import Settings
from app.models.base import utcnow

log = logging.getLogger("hocso.sms")


class SmsFailed(RuntimeError):
    pass


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...

    async def close(self) -> None: ...


class ConsoleSender:
    async def send(self, phone: str, text: str) -> None:
        print(f"SMS to {phone}: {text}", file=sys.stdout, flush=True)

    async def close(self) -> None:
        return None


@dataclass
class FileSender:
    path: Path

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as outbox:
            outbox.write(line + "\n")

    async def send(self, phone: str, text: str) -> None:
        line = json.dumps({"to": phone, "text": text, "at": utcnow().isoformat()}, ensure_ascii=False)
        await anyio.to_thread.run_sync(self._append, line)

    async def close(self) -> None:
        return None


class HttpGatewaySender:
    """One pooled HTTP client per process, built in the app's lifespan and closed with it."""

    def __init__(self, url: str, *, username: str | None, password: str | None, timeout_s: float) -> None:
        import httpx  # only with this sender: httpx brings `rich` into the worker (see identity/oidc.py)

        self.http_error = httpx.HTTPError
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.url = url
        self.client = httpx.AsyncClient(auth=auth, timeout=timeout_s)

    async def send(self, phone: str, text: str) -> None:
        try:
            answer = await self.client.post(self.url, json={"to": phone, "text": text})
        except self.http_error as exc:
            raise SmsFailed(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if not answer.is_success:
            raise SmsFailed(f"SMS gateway answered {answer.status_code}")

    async def close(self) -> None:
        await self.client.aclose()


def build_sms_sender(settings: Settings) -> SmsSender:
    if settings.sms_sender == "http":
        if not settings.sms_http_url:
            raise ValueError("HOCSO_SMS_HTTP_URL must be set with HOCSO_SMS_SENDER=http")
        return HttpGatewaySender(settings.sms_http_url, username=settings.sms_http_username,
                                 password=settings.sms_http_password, timeout_s=settings.sms_http_timeout_s)
    if settings.sms_sender == "file":
        return FileSender(settings.sms_outbox)
    return ConsoleSender()


async def deliver(sender: SmsSender, phone: str, text: str) -> None:
    """Send one message after the response; a failure is logged (without the number or text), never raised
    into a request that already answered."""
    try:
        await sender.send(phone, text)
    except SmsFailed as exc:
        log.warning("SMS not sent", extra={"reason": str(exc)})
