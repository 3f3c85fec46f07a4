"""Accounts: registration, profiles, administrators, service clients, and the admins' view of users."""

import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from pydantic_core import PydanticCustomError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.core.events import LEARNER_RENAMED, announce
from app.core.i18n import messages
from app.core.pagination import decode_cursor, encode_cursor, identifier, moment
from app.core.security import hash_secret
from app.core.text import search_key
from app.models.base import utcnow
from app.models.identity import (
    AdminAccount,
    Audience,
    ProfileUpdate,
    Registration,
    Role,
    ServiceClient,
    ServiceClientCreate,
    User,
    UserAdminView,
    UserPage,
)
from app.models.identity_fields import normalise_email, normalise_phone
from app.services.geo import load_geography
from app.services.identity.assurance import after_phone_change

messages({
    "phone_taken": ("Số điện thoại này đã được dùng cho một tài khoản khác.",
                    "This phone number is already used by another account."),
    "email_taken": ("Địa chỉ email này đã được dùng cho một tài khoản khác.",
                    "This e-mail address is already used by another account."),
    "account_exists": ("Đã có tài khoản với thông tin này.", "An account with these details already exists."),
    "province_not_current": ("Mã {code} không phải là tỉnh, thành phố hiện hành.",
                             "{code} is not a current province or city code."),
    "agency_only_officials": ("Chỉ cán bộ, công chức, viên chức mới ghi cơ quan công tác.",
                              "Only officials have an agency on record."),
    "admin_province_fixed": ("Tỉnh của quản trị viên chỉ do người vận hành thay đổi.",
                             "An administrator's province is changed by an operator only."),
    "province_out_of_scope": ("Bạn chỉ xem được người dùng thuộc tỉnh của mình.",
                              "You can only see users of your own province."),
    "user_not_found": ("Không tìm thấy người dùng.", "User not found."),
    "not_an_official": ("Người dùng này không đăng ký là cán bộ, công chức, viên chức.",
                        "This user did not register as an official."),
})

DEMO_ADMIN_EMAIL = "admin@demo.hocso.vn"




def login_identifier(username: str) -> tuple[str, str] | None:
    """What a sign-in name refers to: ("email", address) if it has an @, else ("phone", E.164), else None."""
    try:
        if "@" in username:
            return "email", normalise_email(username)
        return "phone", normalise_phone(username)
    except PydanticCustomError:
        return None


async def find_by_login(session: AsyncSession, username: str) -> User | None:
    """The account a phone number (any Vietnamese form) or e-mail signs in to, if any."""
    identifier = login_identifier(username)
    if identifier is None:
        return None
    kind, value = identifier
    column = User.email if kind == "email" else User.phone
    return (await session.execute(select(User).where(column == value))).scalar_one_or_none()


async def register(session: AsyncSession, data: Registration) -> User:
    """A new learner: a current province, a phone and e-mail nobody else uses; officials start unverified."""
    await _require_current_province(session, data.province_code, field="province_code")
    await _require_unused(session, phone=data.phone, email=data.email)
    user = User(
        phone=data.phone, email=data.email, full_name=data.full_name, audience=data.audience,
        role=Role.learner, province_code=data.province_code, agency=data.agency,
        password_hash=await anyio.to_thread.run_sync(hash_secret, data.password),
        search_text=search_key(data.full_name, data.phone, data.email),
    )
    session.add(user)
    await _flush_unique(session)
    return user


async def update_profile(session: AsyncSession, user: User, changes: ProfileUpdate) -> User:
    """Users edit their own name, contacts and agency, and learners their province; every account keeps a
    phone or an e-mail. An official who changes agency or province must be verified again."""
    fields = changes.model_dump(exclude_unset=True)
    if "agency" in fields and not fields["agency"]:
        fields["agency"] = None
    errors = []
    if "province_code" in fields and fields["province_code"] != user.province_code:
        if user.role != Role.learner:
            errors.append(FieldError("admin_province_fixed", field="province_code"))
        else:
            await _require_current_province(session, fields["province_code"], field="province_code")
    if fields.get("agency") and user.audience != Audience.official:
        errors.append(FieldError("agency_only_officials", field="agency"))
    if "agency" in fields and not fields["agency"] and user.audience == Audience.official:
        errors.append(FieldError("agency_required", field="agency"))
    phone, email = fields.get("phone", user.phone), fields.get("email", user.email)
    if phone is None and email is None:  # nobody could sign in to it any more
        errors.append(FieldError("phone_or_email_required", field="email" if "email" in fields else "phone"))
    if errors:
        raise ValidationFailed(errors=errors)
    await _require_unused(session, phone=phone if phone != user.phone else None,
                          email=email if email != user.email else None)

    reverify = user.audience == Audience.official and any(
        key in fields and fields[key] != getattr(user, key) for key in ("agency", "province_code"))
    if "phone" in fields and fields["phone"] != user.phone:
        after_phone_change(user)  # the verified number is gone
    for key, value in fields.items():
        setattr(user, key, value)
    if reverify:
        user.official_verified_at = None
        user.official_verified_by = None
    user.search_text = search_key(user.full_name, user.phone, user.email)
    await _flush_unique(session)
    if "full_name" in fields:  # certificates and feed items carry the name (app/services/reactions.py)
        await announce(session, LEARNER_RENAMED, user=user)
    return user


async def list_users(session: AsyncSession, admin: User, *, q: str | None = None,
                     audience: Audience | None = None, province: str | None = None,
                     verified: bool | None = None, limit: int = 20, cursor: str | None = None) -> UserPage:
    """Users newest first, filtered; a province admin sees only their province, a ministry admin all.
    `verified=false` lists the officials waiting for verification."""
    if admin.role == Role.province_admin:
        if province is not None and province != admin.province_code:
            raise Forbidden("province_out_of_scope")
        province = admin.province_code
    filters = []
    if province is not None:
        filters.append(User.province_code == province)
    if audience is not None:
        filters.append(User.audience == audience)
    if verified is True:
        filters.append(User.official_verified_at.is_not(None))
    elif verified is False:
        filters += [User.audience == Audience.official, User.official_verified_at.is_(None)]
    for term in search_key(q).split():
        filters.append(User.search_text.contains(term, autoescape=True))

    total = (await session.execute(select(func.count()).select_from(User).where(*filters))).scalar_one()
    page = select(User).where(*filters)
    if cursor:
        after_created, after_id = decode_cursor(cursor, moment, identifier)
        page = page.where(or_(User.created_at < after_created,
                              and_(User.created_at == after_created, User.id < after_id)))
    page = page.order_by(User.created_at.desc(), User.id.desc()).limit(limit + 1)
    users = list((await session.execute(page)).scalars())
    last = users[limit - 1] if len(users) > limit else None
    next_cursor = encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None
    return UserPage(items=[UserAdminView.of(u) for u in users[:limit]], next_cursor=next_cursor, total=total)


async def verify_official(session: AsyncSession, admin: User, user_id: uuid.UUID) -> User:
    """A ministry admin, or a province admin of the official's own province, confirms an official.
    Users outside a province admin's province look missing (404), so their existence does not leak."""
    user = await session.get(User, user_id)
    if user is None or (admin.role == Role.province_admin and user.province_code != admin.province_code):
        raise NotFound("user_not_found")
    if user.audience != Audience.official:
        raise Conflict("not_an_official")
    if user.official_verified_at is None:  # verifying twice changes nothing
        user.official_verified_at = utcnow()
        user.official_verified_by = admin.id
        await session.flush()
    return user


async def create_admin(session: AsyncSession, account: AdminAccount) -> User:
    """An administrator created by an operator: signs in by e-mail; as an official, vouched for at once."""
    if account.province_code is not None:
        await _require_current_province(session, account.province_code, field="province_code")
    await _require_unused(session, phone=None, email=account.email)
    user = User(
        email=account.email, full_name=account.full_name, audience=Audience.official, role=account.role,
        province_code=account.province_code, official_verified_at=utcnow(),
        password_hash=await anyio.to_thread.run_sync(hash_secret, account.password),
        search_text=search_key(account.full_name, account.email),
    )
    session.add(user)
    await _flush_unique(session)
    return user


async def create_service_client(session: AsyncSession,
                                data: ServiceClientCreate) -> tuple[ServiceClient, str]:
    """A system account with scopes (and optionally one province); its secret is shown once, stored hashed."""
    if data.province_code is not None:
        await _require_current_province(session, data.province_code, field="province_code")
    secret = secrets.token_urlsafe(32)
    client = ServiceClient(
        client_id=f"hocso-{secrets.token_hex(8)}", name=data.name,
        scopes=sorted({s.value for s in data.scopes}), province_code=data.province_code,
        secret_hash=await anyio.to_thread.run_sync(hash_secret, secret),
    )
    session.add(client)
    await session.flush()
    return client, secret


@dataclass(frozen=True)
class DemoAdmin:
    email: str
    password: str


async def ensure_demo_admin(session: AsyncSession, credentials_file: Path) -> tuple[User, DemoAdmin]:
    """The demo ministry admin exists exactly once, with the random password kept in `credentials_file`
    (mode 0600), so every `hocso demo seed` can print it. If that file was lost, the password is reset."""
    stored = await anyio.to_thread.run_sync(_read_demo_credentials, credentials_file)
    email = stored.email if stored else DEMO_ADMIN_EMAIL
    user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
    if stored is not None and user is not None:
        return user, stored
    credentials = stored or DemoAdmin(email, secrets.token_urlsafe(12))
    password_hash = await anyio.to_thread.run_sync(hash_secret, credentials.password)
    if user is None:
        user = User(email=credentials.email, full_name="Quản trị viên demo", audience=Audience.official,
                    role=Role.ministry_admin, official_verified_at=utcnow(), password_hash=password_hash,
                    search_text=search_key("Quản trị viên demo", credentials.email))
        session.add(user)
    else:
        user.password_hash = password_hash
    await session.flush()
    await anyio.to_thread.run_sync(_write_demo_credentials, credentials_file, credentials)
    return user, credentials


# --- helpers ----------------------------------------------------------------------------------------------


async def _require_current_province(session: AsyncSession, code: str, *, field: str) -> None:
    if code not in (await load_geography(session)).current:
        raise ValidationFailed(errors=[FieldError("province_not_current", field=field, code=code)])


async def _require_unused(session: AsyncSession, *, phone: str | None, email: str | None) -> None:
    """409 naming each identifier that already belongs to an account."""
    errors = []
    if phone and (await session.execute(select(User.id).where(User.phone == phone))).first():
        errors.append(FieldError("phone_taken", field="phone"))
    if email and (await session.execute(select(User.id).where(User.email == email))).first():
        errors.append(FieldError("email_taken", field="email"))
    if errors:
        raise Conflict("account_exists", errors=errors)


async def _flush_unique(session: AsyncSession) -> None:
    """Flush; a concurrent sign-up that took the same phone or e-mail first becomes the same 409."""
    try:
        await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)
        field = "phone" if "phone" in text else "email" if "email" in text else None
        errors = [FieldError(f"{field}_taken", field=field)] if field else []
        raise Conflict("account_exists", errors=errors) from None




def _read_demo_credentials(path: Path) -> DemoAdmin | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return DemoAdmin(email=str(data["email"]), password=str(data["password"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_demo_credentials(path: Path, credentials: DemoAdmin) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: the password is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"email": credentials.email, "password": credentials.password}, f)
    path.chmod(0o600)


