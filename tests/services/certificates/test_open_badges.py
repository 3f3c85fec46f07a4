"""Open Badges 3.0 credentials: the OpenBadgeCredential content, the VC-JWT signature and its verification."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt as jose_jwt
from joserfc import jwt as rfc_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.core.errors import Conflict, NotFound
from app.core.security import InvalidToken, KeyRing, SigningKey
from app.models.identity import Role
from app.services.certificates import issuing as certificates
from app.services.certificates import open_badges as credentials
from tests.factories import make_user
from tests.factories.certificates import COURSE, NAME, complete_course


async def _certificate(session, settings):
    """A valid certificate, issued without rendering a PDF (the credential does not need one)."""
    user, completion, _ = await complete_course(session)
    cert = await certificates.issue_certificate(session, completion.id, settings=settings)
    return user, cert


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- content -----------------------------------------------------------------------------------------------


async def test_credential_is_an_open_badge_with_issuer_subject_achievement_and_status(session, settings):
    _, cert = await _certificate(session, settings)
    vc = credentials.build_credential(cert, settings)
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["issuer"] == {"id": "http://test/api/v1/issuer", "type": ["Profile"],
                            "name": settings.issuing_body, "url": "http://test"}
    assert vc["validFrom"].endswith("Z") and vc["id"] == f"urn:uuid:{cert.id}"
    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"][0]["identityHash"] == NAME
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"] and achievement["name"] == COURSE
    assert COURSE in achievement["description"] and achievement["criteria"]["narrative"]
    assert vc["credentialStatus"]["id"] == f"http://test/api/v1/certificates/verify/{cert.serial}"


async def test_jwt_claims_mirror_the_credential_and_header_names_our_key(session, settings, keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    header = jose_jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": keyring.signing.kid}
    claims = jose_jwt.get_unverified_claims(token)
    vc = claims["vc"]
    assert claims["iss"] == vc["issuer"]["id"] and claims["jti"] == vc["id"]
    assert claims["sub"] == vc["credentialSubject"]["id"]
    assert claims["nbf"] == int(cert.issued_at.replace(microsecond=0).timestamp())
    assert "exp" not in claims and "aud" not in claims


async def test_only_owner_or_admin_gets_a_credential_and_never_for_a_revoked_certificate(session, settings,
                                                                                        keyring):
    user, cert = await _certificate(session, settings)
    stranger = await make_user(session)
    with pytest.raises(NotFound):
        await credentials.issue_credential(session, stranger, cert.id, keys=keyring, settings=settings)
    admin = await make_user(session, role=Role.ministry_admin)
    await certificates.revoke_certificate(session, admin, cert.id, "Cấp nhầm")
    with pytest.raises(Conflict):
        await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)


# --- signature ---------------------------------------------------------------------------------------------


async def test_credential_verifies_with_the_published_jwks_key_in_an_independent_library(session, settings,
                                                                                        keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    decoded = rfc_jwt.decode(token, KeySet.import_key_set(keyring.jwks()), algorithms=["RS256"])
    assert decoded.claims["vc"]["credentialSubject"]["achievement"]["name"] == COURSE


async def test_changing_any_byte_of_header_payload_or_signature_breaks_it(session, settings, keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    keys = KeySet.import_key_set(keyring.jwks())
    parts = [_unb64(p) for p in token.split(".")]
    checked = [0, 0, 0]
    for index, part in enumerate(parts):
        for position in range(len(part)):
            changed = bytearray(part)
            changed[position] ^= 0x01
            pieces = [_b64(p) for p in parts]
            pieces[index] = _b64(bytes(changed))
            with pytest.raises((JoseError, ValueError, UnicodeDecodeError)):
                rfc_jwt.decode(".".join(pieces), keys, algorithms=["RS256"])
            # Our own verifier, which is what /verify-credential answers with, on every byte as well.
            ours = await credentials.verify_credential(session, ".".join(pieces), keys=keyring, settings=settings)
            assert not ours.valid and not ours.checks.signature, (index, position)
            checked[index] += 1
    assert checked == [len(p) for p in parts] and checked[1] > 500  # header, payload (the claims), signature


async def test_credential_cannot_serve_as_an_api_access_token(session, settings, keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    with pytest.raises(InvalidToken):
        keyring.decode(token, audience=settings.jwt_audience, issuer=settings.jwt_issuer)


# --- verify-credential -------------------------------------------------------------------------------------


async def test_genuine_credential_of_a_valid_certificate_verifies(session, settings, keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    result = await credentials.verify_credential(session, token, keys=keyring, settings=settings)
    assert result.valid and result.checks.model_dump() == {"signature": True, "issuer": True, "status": True}
    assert result.serial == cert.serial and result.certificate_status == "valid"


async def test_superseded_certificate_credential_fails_on_status_and_names_the_successor(session, settings,
                                                                                         keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    user.full_name = "Nguyễn Thị Hồng Nhung Anh"
    [new] = await certificates.reissue_for_name_change(session, user)
    result = await credentials.verify_credential(session, token, keys=keyring, settings=settings)
    assert not result.valid and result.checks.signature and result.checks.issuer and not result.checks.status
    assert (result.certificate_status, result.revoked_reason, result.superseded_by) == (
        "revoked", "superseded", new.serial)


async def test_same_claims_signed_by_a_foreign_key_with_our_kid_fail_on_signature(session, settings, keyring):
    _, cert = await _certificate(session, settings)
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = foreign.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    forger = KeyRing([SigningKey(keyring.signing.kid, pem, "")], keyring.signing.kid)
    forged = forger.sign(credentials.credential_claims(cert, settings), typ="JWT")
    result = await credentials.verify_credential(session, forged, keys=keyring, settings=settings)
    assert not result.valid and not result.checks.signature


async def test_unsigned_or_symmetric_tokens_are_refused(session, settings, keyring):
    _, cert = await _certificate(session, settings)
    claims = credentials.credential_claims(cert, settings)
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": keyring.signing.kid}).encode())
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    # The classic confusion: HS256 with our public key as the shared secret.
    hmac_forged = jose_jwt.encode(claims, "secret-anyone-could-know", algorithm="HS256",
                                  headers={"kid": keyring.signing.kid})
    for token in (unsigned, hmac_forged, "not a jwt", ""):
        result = await credentials.verify_credential(session, token, keys=keyring, settings=settings)
        assert not result.valid and not result.checks.signature


async def test_token_from_another_issuer_fails_the_issuer_check(session, settings, keyring):
    user, cert = await _certificate(session, settings)
    token = await credentials.issue_credential(session, user, cert.id, keys=keyring, settings=settings)
    elsewhere = settings.model_copy(update={"public_base_url": "https://other.example"})
    result = await credentials.verify_credential(session, token, keys=keyring, settings=elsewhere)
    assert not result.valid and result.checks.signature and not result.checks.issuer


def test_issuer_profile_is_an_ob3_profile_at_its_own_id(settings):
    profile = credentials.issuer_profile(settings)
    assert profile["id"] == "http://test/api/v1/issuer" and profile["type"] == ["Profile"]
    assert profile["name"] == settings.issuing_body
