"""Phone one-time codes: sign-in without a password, phone verification, limits, and no account enumeration."""

import pytest
from sqlalchemy import update

from app.models.base import utcnow
from app.models.verification import PhoneCode
from tests.factories import auth, make_user, sms, token_for
from tests.factories.sms import outbox

SEND, SIGN_IN = "/api/v1/auth/otp/send", "/api/v1/auth/otp/token"
PHONE, E164 = "0912 345 001", "+84912345001"


@pytest.fixture
def settings(settings):
    settings.sms_sender = "file"
    return settings


def last_code(settings, phone: str = E164) -> str:
    return sms.last_code(settings, phone)


async def test_a_registered_phone_gets_a_code_and_signs_in_with_it(client, session, settings):
    user = await make_user(session, phone=E164)
    sent = await client.post(SEND, json={"phone": PHONE})
    assert sent.status_code == 202 and sent.json()["expires_in"] == 300
    tokens = await client.post(SIGN_IN, json={"phone": PHONE, "code": last_code(settings)})
    assert tokens.status_code == 200 and tokens.headers["cache-control"] == "no-store"
    me = (await client.get("/api/v1/users/me", headers=auth(tokens.json()["access_token"]))).json()
    assert me["id"] == str(user.id) and me["assurance"] == "phone"
    # A code works once.
    again = await client.post(SIGN_IN, json={"phone": PHONE, "code": last_code(settings)})
    assert again.status_code == 400


async def test_answers_never_tell_whether_a_number_is_registered(client, session, settings):
    await make_user(session, phone=E164)
    registered = await client.post(SEND, json={"phone": PHONE})
    unknown = await client.post(SEND, json={"phone": "0912 345 999"})
    assert (registered.status_code, registered.json()) == (unknown.status_code, unknown.json())
    assert [m["to"] for m in outbox(settings)] == [E164]  # the unknown number is sent nothing
    wrong_known = await client.post(SIGN_IN, json={"phone": PHONE, "code": "000000"})
    wrong_unknown = await client.post(SIGN_IN, json={"phone": "0912 345 999", "code": "000000"})
    assert wrong_known.status_code == wrong_unknown.status_code == 400
    assert wrong_known.json()["detail"] == wrong_unknown.json()["detail"]
    assert wrong_known.headers["content-type"] == "application/problem+json"


async def test_guessing_a_code_is_locked_out_after_5_tries(client, session, settings):
    await make_user(session, phone=E164)
    await client.post(SEND, json={"phone": PHONE})
    right = last_code(settings)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = await client.post(SIGN_IN, json={"phone": PHONE, "code": wrong})
        assert answer.status_code == 400 and answer.json()["type"] == "/problems/otp-invalid"
    locked = await client.post(SIGN_IN, json={"phone": PHONE, "code": right})
    assert locked.status_code == 429 and locked.json()["type"] == "/problems/otp-locked"
    assert "Retry-After" in locked.headers


async def test_an_expired_code_is_refused(client, session, settings):
    await make_user(session, phone=E164)
    await client.post(SEND, json={"phone": PHONE})
    await session.execute(update(PhoneCode).values(expires_at=utcnow()))
    answer = await client.post(SIGN_IN, json={"phone": PHONE, "code": last_code(settings)})
    assert answer.status_code == 400


async def test_a_new_code_replaces_the_earlier_one(client, session, settings):
    settings.otp_resend_interval_s = 0
    await make_user(session, phone=E164)
    await client.post(SEND, json={"phone": PHONE})
    first = last_code(settings)
    await client.post(SEND, json={"phone": PHONE})
    second = last_code(settings)
    if first != second:
        assert (await client.post(SIGN_IN, json={"phone": PHONE, "code": first})).status_code == 400
    assert (await client.post(SIGN_IN, json={"phone": PHONE, "code": second})).status_code == 200


async def test_a_phone_may_ask_once_a_minute_and_5_times_an_hour(client, session, settings):
    first = await client.post(SEND, json={"phone": PHONE})
    soon = await client.post(SEND, json={"phone": PHONE})
    assert first.status_code == 202 and soon.status_code == 429 and 0 < int(soon.headers["Retry-After"]) <= 60
    settings.otp_resend_interval_s = 0
    answers = [(await client.post(SEND, json={"phone": PHONE})).status_code for _ in range(5)]
    assert answers == [202, 202, 202, 202, 429]


async def test_one_client_address_may_ask_for_20_codes_an_hour(client, settings):
    settings.otp_resend_interval_s = 0
    settings.otp_max_per_client_per_hour = 3
    answers = [(await client.post(SEND, json={"phone": f"0912 345 {n:03d}"})).status_code for n in range(4)]
    assert answers == [202, 202, 202, 429]


async def test_a_malformed_number_is_422_naming_the_field(client):
    answer = await client.post(SEND, json={"phone": "12345"}, headers={"Accept-Language": "en"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "phone"


async def test_a_signed_in_user_verifies_their_phone(client, session, settings, keyring):
    user = await make_user(session, phone=E164)
    headers = auth(token_for(keyring, settings, user))
    assert (await client.post("/api/v1/users/me/phone/code", headers=headers)).status_code == 202
    wrong = await client.post("/api/v1/users/me/phone/verify", json={"code": "12345x"}, headers=headers)
    assert wrong.status_code == 400
    verified = await client.post("/api/v1/users/me/phone/verify", json={"code": last_code(settings)},
                                 headers=headers)
    assert verified.status_code == 200 and verified.json()["assurance"] == "phone"


async def test_an_account_without_a_phone_cannot_ask_for_a_code(client, session, settings, keyring):
    user = await make_user(session)
    answer = await client.post("/api/v1/users/me/phone/code", headers=auth(token_for(keyring, settings, user)))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "phone"
    assert (await client.post("/api/v1/users/me/phone/code")).status_code == 401
