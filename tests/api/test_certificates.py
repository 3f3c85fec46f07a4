"""Certificate routes: my certificates, PDFs, credentials, public verification, revocation, the issuer."""

import importlib.util
from pathlib import Path

import pytest

from app.models.identity import Role
from app.services.certificates.serial import new_serial
from tests.conftest import make_app
from tests.factories import auth, make_user, token_for
from tests.factories.certificates import COURSE, NAME, issue_without_pdf, pdf_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def issued(session, settings):
    return await issue_without_pdf(session, settings)


@pytest.fixture
def as_user(keyring, settings):
    return lambda user: auth(token_for(keyring, settings, user))


def _example_verifier():
    """docs/examples/verify_credential.py, loaded as the standalone script a ministry would run."""
    script = ROOT / "docs" / "examples" / "verify_credential.py"
    spec = importlib.util.spec_from_file_location("verify_credential", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- GET /api/v1/me/certificates ---------------------------------------------------------------------------


async def test_my_certificates_requires_sign_in(client):
    assert (await client.get("/api/v1/me/certificates")).status_code == 401


async def test_my_certificates_lists_only_mine(client, session, issued, as_user):
    other = await make_user(session)
    body = (await client.get("/api/v1/me/certificates", headers=as_user(issued.user))).json()
    assert [c["serial"] for c in body] == [issued.certificate.serial]
    assert body[0]["facts"]["full_name"] == NAME and body[0]["status"] == "valid"
    assert body[0]["verify_url"] == f"http://test/verify/{issued.certificate.serial}"
    assert (await client.get("/api/v1/me/certificates", headers=as_user(other))).json() == []


# --- GET /api/v1/certificates/{id}/pdf ---------------------------------------------------------------------


async def test_pdf_requires_sign_in(client, issued):
    assert (await client.get(f"/api/v1/certificates/{issued.certificate.id}/pdf")).status_code == 401


async def test_owner_is_redirected_to_a_signed_url_of_the_pdf(client, issued, as_user):
    r = await client.get(f"/api/v1/certificates/{issued.certificate.id}/pdf", headers=as_user(issued.user))
    assert r.status_code == 307 and "sig=" in r.headers["location"]
    pdf = await client.get(r.headers["location"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert NAME in text and COURSE in text


async def test_another_learner_gets_404_exactly_as_for_a_missing_one(client, session, issued, as_user):
    stranger = await make_user(session)
    theirs = await client.get(f"/api/v1/certificates/{issued.certificate.id}/pdf", headers=as_user(stranger))
    missing = await client.get(f"/api/v1/certificates/{issued.completion.id}/pdf", headers=as_user(stranger))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]


@pytest.mark.parametrize(("role", "province", "status"), [
    (Role.ministry_admin, None, 307), (Role.province_admin, "01", 307),
    (Role.province_admin, "79", 404), (Role.content_admin, None, 404)])
async def test_admins_reach_pdfs_of_their_scope_only(client, session, issued, as_user, role, province,
                                                     status):
    admin = await make_user(session, role=role, province_code=province)
    r = await client.get(f"/api/v1/certificates/{issued.certificate.id}/pdf", headers=as_user(admin))
    assert r.status_code == status


# --- GET /api/v1/certificates/verify/{serial} --------------------------------------------------------------


async def test_verify_shows_status_and_every_printed_fact_without_sign_in(client, issued, settings):
    r = await client.get(f"/api/v1/certificates/verify/{issued.certificate.serial}")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "valid" and body["valid"] is True
    assert body["revoked_reason"] is None and body["superseded_by"] is None
    assert body["facts"] == issued.certificate.facts
    assert set(body["facts"]) >= {"full_name", "course_title", "course_version", "hours", "completed_on",
                                  "province_name", "audience", "issuing_body"}


async def test_verify_accepts_the_serial_as_people_type_it(client, issued):
    typed = issued.certificate.serial.lower().replace("-", "")
    body = (await client.get(f"/api/v1/certificates/verify/{typed}")).json()
    assert body["serial"] == issued.certificate.serial


@pytest.mark.parametrize("serial", ["HS-2026-ZZZZ-ZZZZ-Z", "nonsense"])
async def test_unknown_serial_is_404_problem(client, serial):
    r = await client.get(f"/api/v1/certificates/verify/{serial}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_well_formed_serial_nobody_holds_is_404(client):
    assert (await client.get(f"/api/v1/certificates/verify/{new_serial(2026)}")).status_code == 404


async def test_verify_is_rate_limited_per_client_ip_across_json_html_and_credentials(settings, db, keyring):
    import httpx

    app = make_app(settings.model_copy(update={"verify_rate_per_minute": 3}), db, keyring)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        serial = new_serial(2026)
        assert (await c.get(f"/api/v1/certificates/verify/{serial}")).status_code == 404
        assert (await c.get(f"/verify/{serial}")).status_code == 404
        r = await c.post("/api/v1/certificates/verify-credential", json={"credential": "x.y.z"})
        assert r.status_code == 200
        limited = await c.get(f"/api/v1/certificates/verify/{serial}")
        assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        page = await c.get(f"/verify/{serial}")
        assert page.status_code == 429 and page.headers["retry-after"]
        other_ip = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
        async with httpx.AsyncClient(transport=other_ip, base_url="http://test") as elsewhere:
            assert (await elsewhere.get(f"/api/v1/certificates/verify/{serial}")).status_code == 404


# --- POST /api/v1/admin/certificates/{id}/revoke -----------------------------------------------------------


async def test_revoke_requires_sign_in(client, issued):
    r = await client.post(f"/api/v1/admin/certificates/{issued.certificate.id}/revoke",
                          json={"reason": "abc"})
    assert r.status_code == 401


async def test_learner_cannot_revoke(client, issued, as_user):
    r = await client.post(f"/api/v1/admin/certificates/{issued.certificate.id}/revoke",
                          json={"reason": "Tự thu hồi"}, headers=as_user(issued.user))
    assert r.status_code == 403


async def test_province_admin_of_another_province_gets_404(client, session, issued, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="79")
    r = await client.post(f"/api/v1/admin/certificates/{issued.certificate.id}/revoke",
                          json={"reason": "Không thuộc tỉnh"}, headers=as_user(admin))
    assert r.status_code == 404


async def test_revoked_certificate_still_verifies_as_revoked_with_reason(client, session, issued, as_user):
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    url = f"/api/v1/admin/certificates/{issued.certificate.id}/revoke"
    r = await client.post(url, json={"reason": "Gian lận bài kiểm tra"}, headers=as_user(admin))
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    body = (await client.get(f"/api/v1/certificates/verify/{issued.certificate.serial}")).json()
    assert (body["status"], body["valid"]) == ("revoked", False)
    assert body["revoked_reason"] == "Gian lận bài kiểm tra"
    assert body["revoked_at"] and body["facts"]["full_name"] == NAME
    again = await client.post(url, json={"reason": "Lần nữa"}, headers=as_user(admin))
    assert again.status_code == 409


async def test_revoke_needs_a_reason(client, session, issued, as_user):
    admin = await make_user(session, role=Role.ministry_admin)
    r = await client.post(f"/api/v1/admin/certificates/{issued.certificate.id}/revoke", json={"reason": ""},
                          headers=as_user(admin))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"


async def test_reissued_certificate_shows_superseded_with_a_link_both_ways(client, session, issued):
    from app.services.certificates.issuing import reissue_for_name_change

    issued.user.full_name = "Nguyễn Thị Hồng Nhung Anh"
    [new] = await reissue_for_name_change(session, issued.user)
    old_body = (await client.get(f"/api/v1/certificates/verify/{issued.certificate.serial}")).json()
    assert (old_body["status"], old_body["revoked_reason"], old_body["superseded_by"]) == (
        "revoked", "superseded", new.serial)
    new_body = (await client.get(f"/api/v1/certificates/verify/{new.serial}")).json()
    assert new_body["status"] == "valid" and new_body["replaces"] == issued.certificate.serial
    assert new_body["facts"]["full_name"] == "Nguyễn Thị Hồng Nhung Anh"


# --- credentials -------------------------------------------------------------------------------------------


async def test_credential_verifies_with_jwks_key_using_the_documented_joserfc_script(client, issued, as_user):
    r = await client.get(f"/api/v1/certificates/{issued.certificate.id}/credential",
                         headers=as_user(issued.user))
    assert r.status_code == 200
    body = r.json()
    jwks = (await client.get("/.well-known/jwks.json")).json()
    issuer = (await client.get("/api/v1/issuer")).json()
    assert body["issuer"] == issuer["id"] == "http://test/api/v1/issuer"
    verifier = _example_verifier()
    claims = verifier.verify(body["credential"], jwks, issuer=issuer["id"])
    assert claims["vc"]["credentialSubject"]["identifier"][0]["identityHash"] == NAME
    assert claims["vc"]["credentialSubject"]["achievement"]["name"] == COURSE
    token = body["credential"]
    flipped = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]  # a signature byte
    with pytest.raises(verifier.JoseError):
        verifier.verify(flipped, jwks, issuer=issuer["id"])


async def test_credential_of_someone_else_is_404(client, session, issued, as_user):
    stranger = await make_user(session)
    r = await client.get(f"/api/v1/certificates/{issued.certificate.id}/credential",
                         headers=as_user(stranger))
    assert r.status_code == 404


async def test_verify_credential_answers_valid_then_revoked(client, session, issued, as_user):
    token = (await client.get(f"/api/v1/certificates/{issued.certificate.id}/credential",
                              headers=as_user(issued.user))).json()["credential"]
    first = (await client.post("/api/v1/certificates/verify-credential", json={"credential": token})).json()
    assert first["valid"] and first["serial"] == issued.certificate.serial
    admin = await make_user(session, role=Role.ministry_admin)
    await client.post(f"/api/v1/admin/certificates/{issued.certificate.id}/revoke",
                      json={"reason": "Cấp nhầm"}, headers=as_user(admin))
    later = (await client.post("/api/v1/certificates/verify-credential", json={"credential": token})).json()
    assert not later["valid"] and later["checks"] == {"signature": True, "issuer": True, "status": False}
    assert later["revoked_reason"] == "Cấp nhầm"


async def test_verify_credential_rejects_garbage_without_error(client):
    r = await client.post("/api/v1/certificates/verify-credential", json={"credential": "eyJhbGciOi.garbage"})
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["checks"]["signature"] is False


async def test_issuer_profile_is_public(client, settings):
    body = (await client.get("/api/v1/issuer")).json()
    assert body["type"] == ["Profile"] and body["name"] == settings.issuing_body


async def test_correcting_my_name_reissues_my_certificate_under_the_new_name(client, issued, as_user):
    r = await client.patch("/api/v1/users/me", json={"full_name": "Nguyễn Thị Hồng Nhung Anh"},
                           headers=as_user(issued.user))
    assert r.status_code == 200
    mine = (await client.get("/api/v1/me/certificates", headers=as_user(issued.user))).json()
    current = next(c for c in mine if c["status"] == "valid")
    assert current["facts"]["full_name"] == "Nguyễn Thị Hồng Nhung Anh"
    old = (await client.get(f"/api/v1/certificates/verify/{issued.certificate.serial}")).json()
    assert (old["status"], old["revoked_reason"], old["superseded_by"]) == ("revoked", "superseded",
                                                                           current["serial"])
