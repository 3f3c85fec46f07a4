"""Open Badges 3.0 credentials: each certificate as an `OpenBadgeCredential` in a VC-JWT signed RS256.

Format (OB 3.0 §8.2, "VC-JWT"): JOSE header `{alg: RS256, typ: JWT, kid}`, the `kid` naming a key published at
`/.well-known/jwks.json`; payload `{iss, jti, sub, nbf, iat, vc}` where `vc` is the credential and
iss = vc.issuer.id, jti = vc.id, sub = vc.credentialSubject.id, nbf = vc.validFrom. No `exp`: a certificate
does not expire; it can only be revoked, which `credentialStatus` (our verification endpoint) tells.

A credential cannot pass for an API access token: it has no `aud` and no `exp`, and its `iss` differs.
"""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Conflict
from app.core.localtime import local_iso
from app.core.security import ALGORITHM, KeyRing
from app.models.certificate import (
    Certificate,
    CertificateStatus,
    CredentialChecks,
    CredentialVerification,
)
from app.models.identity import User
from app.services.certificates.issuing import get_certificate_for, verify_api_url, verify_url
from app.services.certificates.pdf import audience_label, hours_text

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
STATUS_TYPE = "HocSoCertificateStatus"
_ACHIEVEMENT_NS = uuid.UUID("6c1b6a52-2f0e-4f43-9a51-5a1f3c0d7e21")  # fixed: the same course version, same id


def issuer_id(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/issuer"


def jwks_uri(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/.well-known/jwks.json"


def issuer_profile(settings: Settings, *, name: str | None = None) -> dict[str, Any]:
    """The OB 3.0 `Profile` of the issuing body, served at a stable URL that is also its id."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": issuer_id(settings),
        "type": ["Profile"],
        "name": name or settings.issuing_body,
        "url": settings.public_base_url.rstrip("/"),
        "description": (
            "Cơ quan cấp giấy chứng nhận hoàn thành khóa học kỹ năng số trên nền tảng HọcSố. Chứng chỉ số "
            f"được ký RS256; khóa công khai: {jwks_uri(settings)}"
        ),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_credential(cert: Certificate, settings: Settings) -> dict[str, Any]:
    """The OpenBadgeCredential for a certificate, from the same frozen facts the PDF prints."""
    facts = cert.facts
    achievement_id = uuid.uuid5(_ACHIEVEMENT_NS, f"{facts['course_slug']}/v{facts['course_version']}")
    duration = hours_text(facts.get("hours"))
    description = (f"Hoàn thành khóa học trực tuyến «{facts['course_title']}», "
                   f"phiên bản {facts['course_version']}")
    description += f", thời lượng {duration}." if duration else "."
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{cert.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Giấy chứng nhận hoàn thành khóa học: {facts['course_title']}",
        "issuer": {"id": issuer_id(settings), "type": ["Profile"], "name": facts["issuing_body"],
                   "url": settings.public_base_url.rstrip("/")},
        "validFrom": _iso(cert.issued_at),
        "credentialSubject": {
            "id": f"urn:uuid:{cert.user_id}",
            "type": ["AchievementSubject"],
            # OB 3.0 names the learner through an IdentityObject; unhashed, as on the printed certificate.
            "identifier": [{"type": "IdentityObject", "identityHash": facts["full_name"],
                            "identityType": "name", "hashed": False}],
            "activityEndDate": local_iso(date.fromisoformat(facts['completed_on'])),
            "achievement": {
                "id": f"urn:uuid:{achievement_id}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": facts["course_title"],
                "description": description,
                "criteria": {"narrative": (
                    "Hoàn thành mọi bài học bắt buộc và đạt mọi bài kiểm tra bắt buộc của khóa học; "
                    "video chỉ được tính khi đã xem đủ thời lượng quy định. Hệ thống ghi nhận hoàn thành "
                    "tự động.")},
                "version": str(facts["course_version"]),
                "inLanguage": "vi",
                **({"humanCode": facts["course_slug"]} if facts.get("course_slug") else {}),
            },
            "source": {"type": ["Profile"], "id": issuer_id(settings), "name": facts["issuing_body"]},
        },
        "credentialStatus": {"id": verify_api_url(settings, cert.serial), "type": STATUS_TYPE},
        "evidence": [{
            "id": verify_url(settings, cert.serial), "type": ["Evidence"],
            "name": f"Số hiệu {cert.serial}",
            "narrative": (f"Đối tượng: {audience_label(facts['audience'])}; tỉnh, thành phố: "
                          f"{facts.get('province_name') or '—'}; hoàn thành ngày {facts['completed_on']}."),
        }],
    }


def credential_claims(cert: Certificate, settings: Settings) -> dict[str, Any]:
    vc = build_credential(cert, settings)
    issued = int(cert.issued_at.replace(microsecond=0).timestamp())
    return {"iss": vc["issuer"]["id"], "jti": vc["id"], "sub": vc["credentialSubject"]["id"],
            "nbf": issued, "iat": issued, "vc": vc}


async def issue_credential(session: AsyncSession, user: User, certificate_id: uuid.UUID, *, keys: KeyRing,
                           settings: Settings) -> str:
    """The signed VC-JWT of a certificate, for its owner or an admin over it (others: NotFound). A revoked
    certificate gets no new credential (Conflict): it would only ever verify as revoked."""
    cert = await get_certificate_for(session, user, certificate_id)
    if cert.status != CertificateStatus.valid:
        raise Conflict("certificate_revoked_no_credential")
    return keys.sign(credential_claims(cert, settings), typ="JWT")


def _signed_claims(token: str, keys: KeyRing) -> dict[str, Any]:
    """Claims of a token signed RS256 by one of our keys, chosen by our own `kid` (never a key the token
    brings with it: `jwk`/`jku` headers are ignored). Raises JOSEError or ValueError otherwise."""
    header = jwt.get_unverified_header(token)
    if header.get("alg") != ALGORITHM:
        raise ValueError("algorithm is not RS256")
    key = keys.keys.get(str(header.get("kid")))
    if key is None:
        raise ValueError("unknown key id")
    # Issuer and status are judged separately below; a credential has no audience and no expiry.
    return jwt.decode(token, key.public_pem, algorithms=[ALGORITHM],
                      options={"verify_aud": False, "verify_iss": False, "verify_exp": False})


async def verify_credential(session: AsyncSession, token: str, *, keys: KeyRing,
                            settings: Settings) -> CredentialVerification:
    """Whether a presented credential holds: our signature, our issuer, and a certificate valid today."""
    try:
        claims = _signed_claims(token.strip(), keys)
    except (JOSEError, ValueError) as exc:
        reason = "signature" if isinstance(exc, JOSEError) else str(exc)
        return CredentialVerification(valid=False, checks=CredentialChecks(signature=False, issuer=False,
                                                                           status=False), reason=reason)
    vc = claims.get("vc") if isinstance(claims.get("vc"), dict) else {}
    issuer = vc.get("issuer") if isinstance(vc.get("issuer"), dict) else {}
    expected = issuer_id(settings)
    issuer_ok = (claims.get("iss") == expected and issuer.get("id") == expected
                 and "OpenBadgeCredential" in (vc.get("type") or []) and claims.get("jti") == vc.get("id"))
    cert = None
    jti = str(claims.get("jti", ""))
    if issuer_ok and jti.startswith("urn:uuid:"):
        try:
            cert = await session.get(Certificate, uuid.UUID(jti.removeprefix("urn:uuid:")))
        except ValueError:
            cert = None
    status_ok = cert is not None and cert.status == CertificateStatus.valid
    superseded_by = None
    if cert is not None and cert.superseded_by_id is not None:
        successor = await session.get(Certificate, cert.superseded_by_id)
        superseded_by = successor.serial if successor else None
    reason = None if issuer_ok and status_ok else ("issuer" if not issuer_ok else "status")
    return CredentialVerification(
        valid=issuer_ok and status_ok,
        checks=CredentialChecks(signature=True, issuer=issuer_ok, status=status_ok),
        serial=cert.serial if cert else None,
        certificate_status=CertificateStatus(cert.status) if cert else None,
        revoked_reason=cert.revoked_reason if cert else None, superseded_by=superseded_by, reason=reason,
    )
