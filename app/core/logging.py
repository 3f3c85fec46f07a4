"""JSON logs with the request id; secrets and personal data never reach them."""

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Belt and braces: whatever slips into a message, these never leave the process in clear.
_REDACT = [
    (re.compile(r"(?i)(password|secret|token|authorization)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"), r"\1\2***"),
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "***jwt***"),
    (re.compile(r"\$argon2(?:id|i|d)\$[\w$=,+/.-]+"), "***hash***"),
    # A database's own account of a conflict or a bad row carries the values: "Key (phone)=(+84…)".
    (re.compile(r"(Key \([^)]*\)=\().*?(\) (?:already exists|is not present))"), r"\1***\2"),
    (re.compile(r"(Failing row contains \().*(\))"), r"\1***\2"),
    (re.compile(r"(?<![\w-])(\+?84|0)(?:[ .-]?\d){9}(?!\d)"), "***phone***"),
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "***id***"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "***email***"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACT:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    FIELDS = ("method", "path", "status", "duration_ms", "client", "job_id", "kind")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id_var.get(),
            "message": redact(record.getMessage()),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log would print query strings (which can hold tokens); ours logs the route instead.
    logging.getLogger("uvicorn.access").disabled = True
    # Drivers log SQL parameters (e-mails, phones, hashes) at DEBUG: keep them quiet whatever the level.
    for name in ("aiosqlite", "asyncpg", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
