"""SMS senders: the file outbox for development and tests, and the HTTP gateway, against a gateway served on
loopback."""

import base64
import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.core.config import Settings
from app.services.identity.sms import FileSender, HttpGatewaySender, build_sms_sender, deliver
from tests.browser import live_server


def gateway(received: list, status: int = 200) -> FastAPI:
    app = FastAPI()

    @app.post("/sms")
    async def sms(request: Request) -> JSONResponse:
        received.append((request.headers.get("authorization"), await request.json()))
        return JSONResponse({"ok": status == 200}, status_code=status)

    return app


async def test_the_http_gateway_gets_json_with_basic_credentials():
    received: list = []
    async with live_server(gateway(received)) as url:
        sender = build_sms_sender(Settings(_env_file=None, sms_sender="http", sms_http_url=f"{url}/sms",
                                           sms_http_username="hocso", sms_http_password="pw"))
        assert isinstance(sender, HttpGatewaySender)
        await sender.send("+84912345678", "HocSo: ma 123456")
        await sender.close()
    assert received == [("Basic " + base64.b64encode(b"hocso:pw").decode(),
                         {"to": "+84912345678", "text": "HocSo: ma 123456"})]


async def test_a_failing_gateway_is_logged_without_the_number_or_text(caplog):
    async with live_server(gateway([], status=500)) as url:
        sender = HttpGatewaySender(f"{url}/sms", username=None, password=None, timeout_s=5)
        with caplog.at_level(logging.WARNING, logger="hocso.sms"):
            await deliver(sender, "+84912345678", "HocSo: ma 123456")
        await sender.close()
    logged = " ".join(f"{r.getMessage()} {r.__dict__.get('reason', '')}" for r in caplog.records)
    assert "500" in logged and "912345678" not in logged and "123456" not in logged


async def test_the_file_sender_appends_json_lines(tmp_path):
    sender = build_sms_sender(Settings(_env_file=None, sms_sender="file", data_dir=tmp_path))
    assert isinstance(sender, FileSender)
    await sender.send("+84912345678", "một")
    await sender.send("+84912345679", "hai")
    lines = [json.loads(line) for line in (tmp_path / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(m["to"], m["text"]) for m in lines] == [("+84912345678", "một"), ("+84912345679", "hai")]
