"""Phone one-time codes put to use: signing in without a password, and a signed-in user proving their phone
(assurance `phone`). The codes themselves, their limits and their tries are otp.py's."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import FieldError, ValidationFailed
from app.core.i18n import messages
from app.core.security import KeyRing
from app.models.identity import Assurance, TokenPair, User
from app.services.identity import otp, sign_in
from app.services.identity.assurance import raise_assurance

messages({
    "otp_sent": ("Nếu số điện thoại đã đăng ký, một mã xác thực vừa được gửi tới số đó.",
                 "If the number is registered, a code has just been sent to it."),
    "otp_sent_own": ("Mã xác thực vừa được gửi tới số điện thoại của bạn.", "A code has just been sent to your phone."),
    "phone_missing": ("Tài khoản chưa có số điện thoại.", "The account has no phone number."),
})


async def _account_by_phone(session: AsyncSession, phone: str) -> User | None:
    user = (await session.execute(select(User).where(User.phone == phone))).scalar_one_or_none()
    return user if user is not None and user.is_active else None


async def send_sign_in_code(session: AsyncSession, settings: Settings, phone: str, *,
                            client_ip: str) -> otp.Outgoing | None:
    """A sign-in code for a phone number: sent only if an active account has it, answered the same anyway."""
    user = await _account_by_phone(session, phone)
    return await otp.request_code(session, settings, purpose=otp.Purpose.sign_in, phone=phone,
                                  client_ip=client_ip, send=user is not None)


async def sign_in_with_code(session: AsyncSession, settings: Settings, keys: KeyRing, phone: str,
                            code: str) -> TokenPair:
    """HocSo's tokens for the right code, which also proves the account holds its phone (assurance `phone`)."""
    await otp.check_code(session, settings, purpose=otp.Purpose.sign_in, phone=phone, code=code)
    user = await _account_by_phone(session, phone)
    if user is None:  # a code for an unregistered number: refused in the same words as a wrong one
        raise otp.CodeRefused("otp_invalid")
    raise_assurance(user, Assurance.phone)
    return await sign_in.issue_user_tokens(session, settings, keys, user)


async def send_account_code(session: AsyncSession, settings: Settings, user: User, *,
                            client_ip: str) -> otp.Outgoing:
    """A code to the signed-in user's own phone (to verify it, or to confirm linking an e-ID)."""
    if not user.phone:
        raise ValidationFailed(errors=[FieldError("phone_missing", field="phone")])
    outgoing = await otp.request_code(session, settings, purpose=otp.Purpose.account, phone=user.phone,
                                      client_ip=client_ip, send=True)
    assert outgoing is not None
    return outgoing


async def verify_phone(session: AsyncSession, settings: Settings, user: User, code: str) -> User:
    """The right code proves the account holds its phone: assurance at least `phone`."""
    if not user.phone:
        raise ValidationFailed(errors=[FieldError("phone_missing", field="phone")])
    await otp.check_code(session, settings, purpose=otp.Purpose.account, phone=user.phone, code=code)
    raise_assurance(user, Assurance.phone)
    await session.flush()
    return user
