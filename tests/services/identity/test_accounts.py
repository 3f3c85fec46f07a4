"""Normalisation rules, registration, administrators, service clients and the demo admin."""

import json

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from app.core.errors import Conflict
from app.core.security import verify_secret
from app.models.identity import AdminAccount, Audience, Registration, Role, Scope, ServiceClientCreate
from app.models.identity_fields import check_new_password, normalise_password, normalise_phone
from app.services.identity import accounts as identity


@pytest.mark.parametrize("typed", ["0912 345 678", "+84 912345678", "84912345678", "0084 912 345 678",
                                   "(+84) 91-234-5678", "912345678"])
def test_vietnamese_mobile_numbers_become_e164(typed):
    assert normalise_phone(typed) == "+84912345678"


@pytest.mark.parametrize("typed", ["0123", "024 3825 1234", "+44 20 7183 8750", "abc", "",
                                   "0912 345 678 999"])
def test_landlines_foreign_and_malformed_numbers_are_rejected(typed):
    with pytest.raises(PydanticCustomError) as caught:
        normalise_phone(typed)
    assert caught.value.type == "phone_invalid"


def test_search_key_drops_accents_case_and_maps_d_stroke():
    assert identity.search_key("Đặng Thị Ngọc Ánh", None, "+84912345678") == "dang thi ngoc anh +84912345678"
    assert identity.search_key("KỸ NĂNG SỐ") == "ky nang so"


@pytest.mark.parametrize(("username", "expected"), [
    ("An.Nguyen@Example.VN", ("email", "an.nguyen@example.vn")),
    ("0912 345 678", ("phone", "+84912345678")),
    ("not a login", None),
])
def test_login_identifier_reads_phones_and_emails(username, expected):
    assert identity.login_identifier(username) == expected


def test_password_rule_normalises_unicode_so_any_keyboard_matches():
    composed, decomposed = "mật khẩu dài", "ma\u0323\u0302t khâ\u0309u da\u0300i"
    assert check_new_password(decomposed) == normalise_password(composed)


def registration(**overrides) -> Registration:
    return Registration(**({"phone": "0912345678", "password": "hoc-so-moi-ngay-2026",
                            "full_name": "Đặng Văn Đức", "province_code": "01", "audience": "citizen"}
                           | overrides))


async def test_register_keeps_an_accent_free_search_text_and_only_a_password_hash(session):
    user = await identity.register(session, registration())
    assert user.search_text == "dang van duc +84912345678"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_secret("hoc-so-moi-ngay-2026", user.password_hash)
    assert user.role == Role.learner and user.official_verified_at is None


async def test_concurrent_registrations_with_one_phone_end_in_409_not_500(db, monkeypatch):
    # Both sign-ups pass the "is it free?" check before either writes: the unique index decides.
    async def nobody_has_it(*args, **kwargs):
        return None

    monkeypatch.setattr(identity, "_require_unused", nobody_has_it)
    async with db.session() as session:
        await identity.register(session, registration())
    with pytest.raises(Conflict) as caught:
        async with db.session() as session:
            await identity.register(session, registration(email="khac@example.vn"))
    assert [e["field"] for e in caught.value.errors] == ["phone"]


def test_admin_accounts_need_an_admin_role_and_province_admins_a_province():
    with pytest.raises(ValidationError) as caught:
        AdminAccount(email="a@example.vn", password="quan-tri-an-toan", role="learner")
    assert caught.value.errors()[0]["type"] == "admin_role_required"
    with pytest.raises(ValidationError) as caught:
        AdminAccount(email="a@example.vn", password="quan-tri-an-toan", role="province_admin")
    assert [e["loc"] for e in caught.value.errors()] == [("province_code",)]


async def test_create_admin_is_an_official_vouched_for_at_creation(session):
    admin = await identity.create_admin(session, AdminAccount(
        email="Tinh@Example.vn", password="quan-tri-an-toan", role="province_admin", province_code="79"))
    assert admin.email == "tinh@example.vn" and admin.province_code == "79"
    assert admin.audience == Audience.official and admin.effective_audience == Audience.official


async def test_service_client_secret_is_random_and_stored_hashed(session):
    one, secret = await identity.create_service_client(session, ServiceClientCreate(
        name="Cổng Bộ", scopes=[Scope.stats_read, Scope.stats_read, Scope.completions_read]))
    two, other_secret = await identity.create_service_client(session, ServiceClientCreate(
        name="Cổng Bộ", scopes=[Scope.stats_read]))
    assert one.client_id != two.client_id and secret != other_secret and len(secret) >= 40
    assert one.scopes == ["completions:read", "stats:read"]
    assert secret not in one.secret_hash and verify_secret(secret, one.secret_hash)


async def test_demo_admin_is_created_again_from_its_file_for_a_fresh_database(session, tmp_path):
    credentials_file = tmp_path / "demo-admin.json"
    credentials_file.write_text(json.dumps({"email": identity.DEMO_ADMIN_EMAIL,
                                            "password": "kept-from-before"}))
    user, credentials = await identity.ensure_demo_admin(session, credentials_file)
    assert credentials.password == "kept-from-before"
    assert user.role == Role.ministry_admin and verify_secret("kept-from-before", user.password_hash)
    again, same = await identity.ensure_demo_admin(session, credentials_file)
    assert again.id == user.id and same == credentials
