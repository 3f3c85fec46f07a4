"""What the file SMS sender wrote (HOCSO_SMS_SENDER=file): the messages and the last code sent to a phone."""

import json
import re


def outbox(settings) -> list[dict]:
    path = settings.sms_outbox
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def last_code(settings, phone: str) -> str:
    texts = [m["text"] for m in outbox(settings) if m["to"] == phone]
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)
