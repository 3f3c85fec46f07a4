"""Signing in with an OpenID provider, from a front end's start to HocSo's tokens in its hands.

1. `start`: the SPA or mobile app names where to come back (`return_to`, one of HOCSO_OIDC_RETURN_URLS) and
   sends the S256 challenge of a verifier it keeps; HocSo answers the provider's authorization URL (code flow,
   PKCE, `state`, `nonce`). Only `state`'s digest is stored: the PKCE verifier and the nonce are derived from it
   under the service secret.
2. `callback`: the provider sends the browser back with `code` and `state`. The state is used up at once (a
   second answer for it is a replay), the code is redeemed, the ID token checked (oidc.py), the account found
   or created (linking.py), and the browser sent on to `return_to#code=<one-time handoff code>`.
3. `exchange`: the front end posts the handoff code with its verifier and gets HocSo's access and refresh
   tokens in the response body. The code works once, within `oidc_handoff_ttl_s`, and only with the verifier:
   tokens never travel in a URL, and a code caught on its way back (another app claiming a mobile redirect,
   a shared link) is useless. The verifier also binds the sign-in to the front end that started it, so
   nobody can plant their own sign-in in someone else's browser.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import BadRequest, FieldError, Forbidden, ValidationFailed
from app.core.i18n import messages
from app.core.security import KeyRing, digest_token, keyed_hash
from app.models.base import utcnow
from app.models.identity import TokenPair, User
from app.models.verification import OidcExchange, OidcSignIn, OidcStart, OidcStarted
from app.services.identity import linking, oidc, sign_in
from app.services.identity.oidc import Providers, SignInAnswerInvalid

messages({
    "oidc_return_to_unknown": ("Địa chỉ quay lại không nằm trong danh sách được phép.",
                               "This return address is not among the allowed ones."),
    "oidc_state_invalid": ("Phiên đăng nhập không hợp lệ, đã dùng hoặc đã hết hạn; vui lòng đăng nhập lại.",
                           "This sign-in is unknown, already used or expired; please start again."),
    "oidc_provider_refused": ("{provider} không cho đăng nhập ({error}).", "{provider} did not sign you in ({error})."),
    "oidc_handoff_invalid": ("Mã đăng nhập không hợp lệ, đã dùng hoặc đã hết hạn.",
                             "The sign-in code is invalid, already used or expired."),
})


class HandoffRefused(BadRequest):
    keeps_changes = True  # a wrong verifier uses the code up


def callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/auth/oidc/{provider}/callback"


def _derived(settings: Settings, state: str, what: str) -> str:
    """PKCE verifier / nonce for this state: 64 hex characters, never stored."""
    return keyed_hash(settings.secret_key, f"oidc-{what}", state)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def start(session: AsyncSession, settings: Settings, providers: Providers, provider_name: str,
                request: OidcStart, *, client_ip: str, link_user: User | None = None) -> OidcStarted:
    """The provider's authorization URL for a new sign-in; with `link_user`, the sign-in links the e-ID to
    that account, which must first be confirmed by its password or a phone code."""
    provider = providers.get(provider_name)
    if request.return_to not in settings.oidc_return_urls:
        raise ValidationFailed(errors=[FieldError("oidc_return_to_unknown", field="return_to")])
    if link_user is not None:
        await linking.confirm_account(session, settings, link_user, password=request.password,
                                      phone_code=request.phone_code, client_ip=client_ip)
    state = secrets.token_urlsafe(32)
    url = await oidc.authorization_url(
        providers, provider, redirect_uri=callback_url(settings, provider.name), state=state,
        nonce=_derived(settings, state, "nonce"), code_verifier=_derived(settings, state, "pkce"))
    now = utcnow()
    session.add(OidcSignIn(state_hash=digest_token(state), provider=provider.name, return_to=request.return_to,
                           handoff_challenge=request.handoff_challenge,
                           link_user_id=link_user.id if link_user else None, created_at=now,
                           expires_at=now + timedelta(seconds=settings.oidc_flow_ttl_s)))
    await session.flush()
    return OidcStarted(authorization_url=url, expires_in=settings.oidc_flow_ttl_s)


async def callback(session: AsyncSession, settings: Settings, providers: Providers, provider_name: str, *,
                   state: str | None, code: str | None, error: str | None) -> str:
    """Where the browser goes next: `return_to#code=…`. Any refusal is a problem answer and uses the state up."""
    provider = providers.get(provider_name)
    now = utcnow()
    flow = (await session.execute(select(OidcSignIn).where(
        OidcSignIn.state_hash == digest_token(state or ""), OidcSignIn.provider == provider.name))
    ).scalar_one_or_none() if state else None
    if flow is None or flow.expires_at <= now:
        raise SignInAnswerInvalid("oidc_state_invalid")
    # Used up before anything else, atomically: of two answers carrying this state, one at most goes on.
    claimed = await session.execute(update(OidcSignIn).where(OidcSignIn.id == flow.id,
                                                             OidcSignIn.callback_at.is_(None))
                                    .values(callback_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise SignInAnswerInvalid("oidc_state_invalid")
    name = provider.title or provider.name
    if error or not code:
        raise SignInAnswerInvalid("oidc_provider_refused", provider=name, error=(error or "no code")[:100])
    identity = await oidc.redeem_code(
        providers, provider, redirect_uri=callback_url(settings, provider.name), code=code,
        code_verifier=_derived(settings, state or "", "pkce"), nonce=_derived(settings, state or "", "nonce"))
    user = await linking.account_for_identity(session, settings, provider, identity,
                                              link_user_id=flow.link_user_id)
    handoff = secrets.token_urlsafe(32)
    await session.execute(update(OidcSignIn).where(OidcSignIn.id == flow.id)
                          .values(handoff_hash=digest_token(handoff), user_id=user.id)
                          .execution_options(synchronize_session=False))
    return f"{flow.return_to}#{urlencode({'code': handoff})}"


async def exchange(session: AsyncSession, settings: Settings, keys: KeyRing, request: OidcExchange) -> TokenPair:
    """HocSo's tokens for a handoff code and the verifier of the challenge the sign-in started with; once."""
    now = utcnow()
    flow = (await session.execute(select(OidcSignIn).where(
        OidcSignIn.handoff_hash == digest_token(request.code)))).scalar_one_or_none()
    if (flow is None or flow.callback_at is None or flow.user_id is None
            or flow.callback_at + timedelta(seconds=settings.oidc_handoff_ttl_s) <= now):
        raise HandoffRefused("oidc_handoff_invalid")
    used = await session.execute(update(OidcSignIn).where(OidcSignIn.id == flow.id,
                                                          OidcSignIn.exchanged_at.is_(None))
                                 .values(exchanged_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1 or not hmac.compare_digest(s256(request.code_verifier), flow.handoff_challenge):
        raise HandoffRefused("oidc_handoff_invalid")
    user = await session.get(User, flow.user_id)
    if user is None or not user.is_active:
        raise Forbidden("account_disabled")
    return await sign_in.issue_user_tokens(session, settings, keys, user)
