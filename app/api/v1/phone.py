"""Phone one-time codes: signing in with a code instead of a password, and verifying a signed-in user's phone."""

import uuid

from fastapi import BackgroundTasks, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUserId, KeysDep, SettingsDep, caller_address
from app.api.problems import problem
from app.api.v1 import v1_router
from app.api.v1.auth import TokenSession, no_store
from app.core.errors import Unauthorized
from app.core.i18n import t
from app.models.identity import TokenPair, User, UserPublic
from app.models.verification import CodeSent, PhoneCodeCheck, PhoneCodeRequest, PhoneSignIn
from app.services.identity import phone, sms

# Transaction exception «sign-in refusals commit» (docs/architecture.md): counted tries and used-up answers.
router = v1_router(tags=["auth"])

LIMITS = {429: problem("Too many codes for this phone or from this address; see Retry-After")}


def _send_later(request: Request, tasks: BackgroundTasks, outgoing: phone.otp.Outgoing | None) -> None:
    if outgoing is not None:  # after the response, so its timing tells nothing
        tasks.add_task(sms.deliver, request.app.state.per_worker.sms, outgoing.phone, outgoing.text)


@router.post("/auth/otp/send", status_code=status.HTTP_202_ACCEPTED, response_model=CodeSent,
             summary="Send a sign-in code to a phone", responses=LIMITS)
async def send_sign_in_code(body: PhoneCodeRequest, request: Request, tasks: BackgroundTasks,
                            session: TokenSession, settings: SettingsDep) -> CodeSent:
    """Always the same answer, registered number or not. A code lives `HOCSO_OTP_TTL_S` (5 minutes), allows 5
    tries, and replaces the phone's earlier codes; a phone may ask once a minute and 5 times an hour."""
    outgoing = await phone.send_sign_in_code(session, settings, body.phone, client_ip=caller_address(request))
    _send_later(request, tasks, outgoing)
    return CodeSent(detail=t("otp_sent"), expires_in=settings.otp_ttl_s)


@router.post("/auth/otp/token", response_model=TokenPair, response_model_exclude_none=True,
             summary="Sign in with a phone code",
             responses={400: problem("Wrong or expired code"),
                        429: problem("Too many wrong tries: ask for a new code")})
async def sign_in_with_code(body: PhoneSignIn, response: Response, session: TokenSession,
                            settings: SettingsDep, keys: KeysDep) -> TokenPair:
    """HocSo's access and refresh tokens, as for a password sign-in; the account's assurance becomes at
    least `phone`."""
    no_store(response)
    return await phone.sign_in_with_code(session, settings, keys, body.phone, body.code)


async def _me(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The signed-in user, read in the session that commits their code tries (one session, one transaction)."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("invalid_token")
    return user


@router.post("/users/me/phone/code", status_code=status.HTTP_202_ACCEPTED, response_model=CodeSent,
             summary="Send a code to my phone", tags=["users"], responses=LIMITS)
async def send_account_code(request: Request, tasks: BackgroundTasks, session: TokenSession,
                            settings: SettingsDep, user_id: CurrentUserId) -> CodeSent:
    """For `POST /api/v1/users/me/phone/verify`, or as `phone_code` when linking an e-ID."""
    user = await _me(session, user_id)
    _send_later(request, tasks, await phone.send_account_code(session, settings, user,
                                                              client_ip=caller_address(request)))
    return CodeSent(detail=t("otp_sent_own"), expires_in=settings.otp_ttl_s)


@router.post("/users/me/phone/verify", response_model=UserPublic, summary="Verify my phone with its code",
             tags=["users"], responses={400: problem("Wrong or expired code"),
                                        429: problem("Too many wrong tries")})
async def verify_phone(body: PhoneCodeCheck, session: TokenSession, settings: SettingsDep,
                       user_id: CurrentUserId) -> UserPublic:
    """The account's assurance becomes at least `phone`."""
    return UserPublic.of(await phone.verify_phone(session, settings, await _me(session, user_id), body.code))
