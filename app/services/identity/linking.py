"""One person, one account: the HocSo account an OpenID sign-in belongs to.

In order: the account already linked to the provider's subject; else the account holding the same national-ID
hash (partner completions create learners that way, so in-person and online records meet in one learner);
else a new account. A signed-in user linking an e-ID to their own account must have confirmed it with its
password or a phone code (checked before the sign-in starts), and the e-ID must not belong to anyone else.
The unique national-ID hash on accounts (and the unique provider subject) hold this under concurrency too.
"""

import uuid
from datetime import date

from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import OidcProvider, Settings
from app.core.errors import Conflict, FieldError, Forbidden, ValidationFailed
from app.core.i18n import messages
from app.core.localtime import LOCAL_TZ
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import Assurance, Audience, Role, User
from app.models.identity_fields import normalise_name
from app.models.verification import LinkedIdentity
from app.services.geo import load_geography
from app.services.identity import citizen_ids, otp, sign_in
from app.services.identity.assurance import raise_assurance
from app.services.identity.oidc import SignInAnswerInvalid, VerifiedIdentity

messages({
    "eid_linked_elsewhere": ("Định danh điện tử này đã gắn với một tài khoản khác.",
                             "This electronic identity already belongs to another account."),
    "eid_other_person": ("Tài khoản này đã gắn với định danh điện tử của một người khác.",
                         "This account is already linked to another person's electronic identity."),
    "link_confirmation_required": ("Để gắn định danh điện tử, hãy nhập mật khẩu hoặc mã gửi tới điện thoại của "
                                   "tài khoản.", "To link an electronic identity, give the account's password "
                                   "or a code sent to its phone."),
    "link_password_wrong": ("Mật khẩu không đúng.", "Wrong password."),
    "account_disabled": ("Tài khoản đã bị khóa.", "This account is disabled."),
    "oidc_claim_missing": ("{provider} không cung cấp {claim}.", "{provider} did not provide {claim}."),
})


class LinkPasswordWrong(ValidationFailed):
    """A wrong password when linking counts as a failed sign-in of the account (kept before the 422 goes out)."""

    keeps_changes = True


async def confirm_account(session: AsyncSession, settings: Settings, user: User, *, password: str | None,
                          phone_code: str | None, client_ip: str) -> None:
    """Linking needs the account's password or a code sent to its phone (a stolen access token is not enough).
    The password is throttled like signing in with it, so linking is no way round the sign-in lock."""
    if password:
        if not await sign_in.check_account_password(session, settings, user, password, client_ip=client_ip):
            raise LinkPasswordWrong(errors=[FieldError("link_password_wrong", field="password")])
        return
    if phone_code and user.phone:
        await otp.check_code(session, settings, purpose=otp.Purpose.account, phone=user.phone, code=phone_code)
        return
    raise ValidationFailed(errors=[FieldError("link_confirmation_required", field="password")])


async def account_for_identity(session: AsyncSession, settings: Settings, provider: OidcProvider,
                               identity: VerifiedIdentity, *, link_user_id: uuid.UUID | None) -> User:
    """The account this verified identity signs in to (created or linked as the module says), with its
    assurance raised to what the provider proves."""
    name = provider.title or provider.name
    national_id_hash = await _national_id_hash(session, settings, provider, identity)
    linked = (await session.execute(select(LinkedIdentity).where(
        LinkedIdentity.provider == identity.provider, LinkedIdentity.subject == identity.subject))
    ).scalar_one_or_none()
    by_id = (await session.execute(select(User).where(User.national_id_hash == national_id_hash))
             ).scalar_one_or_none() if national_id_hash else None
    owners = {u for u in (linked.user_id if linked else None, by_id.id if by_id else None) if u is not None}

    if link_user_id is not None:
        user = await session.get(User, link_user_id)
        if user is None:
            raise Forbidden("account_disabled")
        if owners - {user.id}:
            raise Conflict("eid_linked_elsewhere")
        if national_id_hash and user.national_id_hash not in (None, national_id_hash):
            raise Conflict("eid_other_person")
    elif len(owners) > 1:
        raise Conflict("eid_linked_elsewhere")
    elif owners:
        user = await session.get(User, owners.pop())
        assert user is not None
    else:
        user = _new_account(provider, identity, national_id_hash, name)
        session.add(user)
    if not user.is_active:
        raise Forbidden("account_disabled")

    user.national_id_hash = user.national_id_hash or national_id_hash
    user.birth_date = user.birth_date or _birth_date(provider, identity)
    if provider.assurance == "eid":
        raise_assurance(user, Assurance.eid)
    now = utcnow()
    if linked is None:
        session.add(LinkedIdentity(provider=identity.provider, subject=identity.subject, user_id=user.id,
                                   last_sign_in_at=now))
    else:
        linked.last_sign_in_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent first sign-in of the same person won the unique national-ID hash
        raise Conflict("eid_linked_elsewhere") from None
    return user


async def _national_id_hash(session: AsyncSession, settings: Settings, provider: OidcProvider,
                            identity: VerifiedIdentity) -> str | None:
    if not provider.national_id_claim:
        return None
    name = provider.title or provider.name
    raw = identity.claims.get(provider.national_id_claim)
    if not isinstance(raw, str | int):
        raise SignInAnswerInvalid("oidc_claim_missing", provider=name, claim=provider.national_id_claim)
    today = utcnow().astimezone(LOCAL_TZ).date()
    if not citizen_ids.is_citizen_id(str(raw), (await load_geography(session)).former, today):
        raise SignInAnswerInvalid("oidc_id_token_invalid", provider=name, reason=provider.national_id_claim)
    return citizen_ids.hash_citizen_id(settings.secret_key, str(raw))


def _birth_date(provider: OidcProvider, identity: VerifiedIdentity) -> date | None:
    raw = identity.claims.get(provider.birth_date_claim) if provider.birth_date_claim else None
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:  # a year alone ("1990") or another shape: not kept
        return None


def _new_account(provider: OidcProvider, identity: VerifiedIdentity, national_id_hash: str | None,
                 provider_name: str) -> User:
    """A citizen account with no password and no province yet (the learner sets it on their profile)."""
    try:
        full_name = normalise_name(str(identity.claims.get(provider.name_claim) or ""))
    except PydanticCustomError:
        raise SignInAnswerInvalid("oidc_claim_missing", provider=provider_name, claim=provider.name_claim) from None
    return User(id=uuid.uuid4(), full_name=full_name, search_text=search_key(full_name), audience=Audience.citizen,
                role=Role.learner, national_id_hash=national_id_hash, password_hash=None)
