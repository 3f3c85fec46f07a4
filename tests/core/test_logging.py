import json
import logging

from app.core.logging import JsonFormatter, redact


def test_redaction_hides_secrets_and_personal_data():
    line = ('login password=hunter22 token: abc.def phone 0912345678 +84912345678 mail an.nguyen@example.vn '
            'jwt eyJhbGciOi.eyJzdWIiOi.sig')
    out = redact(line)
    for secret in ("hunter22", "0912345678", "+84912345678", "an.nguyen@example.vn", "eyJhbGciOi"):
        assert secret not in out


def test_redaction_hides_hashes_spaced_phones_ids_and_database_details():
    line = ('hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA phone +84 912 345 678 id 001190012345 '
            'DETAIL:  Key (phone)=(+84 912 345 679) already exists. Failing row contains (Nguyễn Văn An, x).')
    out = redact(line)
    for secret in ("$argon2id$v=19", "c2FsdA", "912 345 678", "001190012345", "912 345 679", "Nguyễn Văn An"):
        assert secret not in out, out


async def test_database_errors_hide_their_parameters(db, session, caplog):
    """An IntegrityError's message names the statement, never the values (names, phones, hashes)."""
    from sqlalchemy.exc import IntegrityError

    from tests.factories import make_user
    await make_user(session, phone="+84912777888", full_name="Trần Riêng Tư")
    try:
        async with session.begin_nested():
            await make_user(session, phone="+84912777888", full_name="Trần Riêng Tư")
    except IntegrityError as exc:
        text = str(exc)
    assert "Trần Riêng Tư" not in text and "912777888" not in text and "argon2" not in text


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world" and "request_id" in entry and entry["level"] == "INFO"
