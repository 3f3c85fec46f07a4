import json
import logging

from app.core.logging import JsonFormatter, redact


def test_redaction_hides_secrets_and_personal_data():
    line = ('login password=hunter22 token: abc.def phone 0912345678 +84912345678 mail an.nguyen@example.vn '
            'jwt eyJhbGciOi.eyJzdWIiOi.sig')
    out = redact(line)
    for secret in ("hunter22", "0912345678", "+84912345678", "an.nguyen@example.vn", "eyJhbGciOi"):
        assert secret not in out


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world" and "request_id" in entry and entry["level"] == "INFO"
