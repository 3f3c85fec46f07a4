"""Phone one-time codes: sent through the SMS sender, stored only as keyed hashes, short-lived, at most
`otp_max_attempts` (5) tries each, and limited per phone and per client address.

Answers never tell whether a number is registered: a code is made, stored and counted against the limits for
every well-formed number, registered or not (only a registered one is actually sent an SMS, and sending
happens after the answer), and a wrong code, an expired one and a code for an unregistered number are
refused with the same words. The newest code of a phone replaces the ones before it.

Refusals that count (a wrong try) are raised with `keeps_changes = True`, so the request's unit of work
commits the try before answering.
"""

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import BadRequest, RateLimited
from app.core.i18n import messages
from app.core.security import keyed_hash
from app.models.base import utcnow
from app.models.verification import PhoneCode

CODE_DIGITS = 6

messages({
    "otp_invalid": ("Mã xác thực không đúng hoặc đã hết hạn.", "The code is wrong or has expired."),
    "otp_locked": ("Đã nhập sai quá nhiều lần; vui lòng yêu cầu mã mới.",
                   "Too many wrong tries; request a new code."),
    "otp_resend_wait": ("Vui lòng đợi {retry_after} giây trước khi yêu cầu mã mới.",
                        "Wait {retry_after} seconds before asking for a new code."),
    "otp_too_many": ("Đã yêu cầu quá nhiều mã; vui lòng thử lại sau {retry_after} giây.",
                     "Too many codes requested; try again in {retry_after} seconds."),
})


class Purpose(StrEnum):
    sign_in = "sign_in"  # signing in without a password
    account = "account"  # a signed-in user proving their phone (verification, linking an e-ID)


class CodeRefused(BadRequest):
    """A wrong try: counted (and committed) before the answer."""

    keeps_changes = True


class CodeLocked(RateLimited):
    keeps_changes = True


@dataclass(frozen=True)
class Outgoing:
    """A text to send once the request has committed."""

    phone: str
    text: str


def _phone_key(settings: Settings, purpose: Purpose, phone: str) -> str:
    return keyed_hash(settings.secret_key, f"otp-phone-{purpose}", phone)


def _code_hash(settings: Settings, row_id: str, code: str) -> str:
    return keyed_hash(settings.secret_key, "otp-code", f"{row_id}:{code}")


def message_text(code: str, ttl_s: int) -> str:
    # Without diacritics: a GSM-7 SMS holds 160 characters, a Unicode one 70.
    return (f"HocSo: ma xac thuc cua ban la {code}, hieu luc {ttl_s // 60} phut. "
            "Khong chia se ma nay voi bat ky ai.")


async def request_code(session: AsyncSession, settings: Settings, *, purpose: Purpose, phone: str,
                       client_ip: str, send: bool) -> Outgoing | None:
    """Make a new code for `phone` (E.164), replacing its earlier ones, unless the phone or the client
    address has asked too often (429 with Retry-After). Returns the text to send when `send` (a registered
    number, or a signed-in user's own), else None: the caller answers the same either way."""
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    phone_key = _phone_key(settings, purpose, phone)
    client_key = keyed_hash(settings.secret_key, "otp-client", client_ip)
    recent = list((await session.execute(
        select(PhoneCode.created_at).where(PhoneCode.phone_key == phone_key, PhoneCode.created_at > hour_ago)
        .order_by(PhoneCode.created_at.desc()))).scalars())
    if recent:
        wait = settings.otp_resend_interval_s - (now - recent[0]).total_seconds()
        if wait > 0:
            raise RateLimited(math.ceil(wait), "otp_resend_wait")
        if len(recent) >= settings.otp_max_per_phone_per_hour:
            raise RateLimited(_until_hour_after(recent[settings.otp_max_per_phone_per_hour - 1], now),
                              "otp_too_many")
    from_client = (await session.execute(
        select(func.min(PhoneCode.created_at), func.count()).where(
            PhoneCode.client_key == client_key, PhoneCode.created_at > hour_ago))).one()
    if from_client[1] >= settings.otp_max_per_client_per_hour:
        raise RateLimited(_until_hour_after(from_client[0], now), "otp_too_many")

    await session.execute(update(PhoneCode).where(PhoneCode.phone_key == phone_key, PhoneCode.used_at.is_(None))
                          .values(used_at=now).execution_options(synchronize_session=False))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    row = PhoneCode(purpose=purpose, phone_key=phone_key, client_key=client_key, code_hash="",
                    created_at=now, expires_at=now + timedelta(seconds=settings.otp_ttl_s))
    row.code_hash = _code_hash(settings, str(row.id), code)
    session.add(row)
    await session.flush()
    return Outgoing(phone, message_text(code, settings.otp_ttl_s)) if send else None


def _until_hour_after(oldest, now) -> int:  # noqa: ANN001
    return max(1, math.ceil((oldest + timedelta(hours=1) - now).total_seconds()))


async def check_code(session: AsyncSession, settings: Settings, *, purpose: Purpose, phone: str,
                     code: str) -> None:
    """Accept the phone's newest code once, within its lifetime and its tries; else 400 (wrong or expired)
    or, from the try after the last allowed one, 429 until a new code is asked for."""
    now = utcnow()
    row = (await session.execute(
        select(PhoneCode).where(PhoneCode.phone_key == _phone_key(settings, purpose, phone),
                                PhoneCode.used_at.is_(None))
        .order_by(PhoneCode.created_at.desc()).limit(1))).scalar_one_or_none()
    if row is None or row.expires_at <= now:
        raise CodeRefused("otp_invalid")
    # Counted before comparing, atomically: concurrent guesses cannot share one try.
    counted = await session.execute(
        update(PhoneCode).where(PhoneCode.id == row.id, PhoneCode.used_at.is_(None),
                                PhoneCode.attempts < settings.otp_max_attempts)
        .values(attempts=PhoneCode.attempts + 1).execution_options(synchronize_session=False))
    if counted.rowcount != 1:
        raise CodeLocked(settings.otp_resend_interval_s or 1, "otp_locked")
    if not hmac.compare_digest(row.code_hash, _code_hash(settings, str(row.id), code.strip())):
        raise CodeRefused("otp_invalid")
    await session.execute(update(PhoneCode).where(PhoneCode.id == row.id).values(used_at=now)
                          .execution_options(synchronize_session=False))
