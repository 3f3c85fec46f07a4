"""Certificates: the learner's own, PDFs, credentials, public verification, revocation, the issuer profile."""

import uuid

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from app.api.deps import (
    CurrentUser,
    KeysDep,
    RateLimitsDep,
    SessionDep,
    SettingsDep,
    StorageDep,
    UserAdmin,
    caller_address,
)
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.errors import RateLimited
from app.core.ratelimit import retry_after
from app.models.certificate import (
    CertificatePublic,
    CertificateVerification,
    CredentialPresentation,
    CredentialResponse,
    CredentialVerification,
    RevokeRequest,
)
from app.services.certificates import issuing as certificates
from app.services.certificates import open_badges as credentials

router = v1_router(tags=["certificates"])

_NOT_FOUND = {404: problem("No such certificate, or not yours to see (problem+json)")}
_LIMITED = {429: problem("Too many verification requests from this address; see Retry-After")}


async def check_verify_rate(request: Request, limits: RateLimitsDep) -> None:
    """One budget per caller address shared by every verification endpoint, so serials cannot be enumerated;
    in Redis when HOCSO_REDIS_URL is set, so every worker and host shares it."""
    settings = request.app.state.settings
    wait = await limits.hit("verify", caller_address(request), limit=settings.verify_rate_per_minute, window_s=60)
    if wait is not None:
        raise RateLimited(retry_after(wait))


VerifyRate = Depends(check_verify_rate)


@router.get("/me/certificates", summary="My certificates", response_model=list[CertificatePublic])
async def my_certificates(user: CurrentUser, session: SessionDep,
                          settings: SettingsDep) -> list[CertificatePublic]:
    """Every certificate of the signed-in learner, newest first; revoked ones stay listed, with reason."""
    return [certificates.public_certificate(c, settings)
            for c in await certificates.list_my_certificates(session, user)]


@router.get("/certificates/{certificate_id}/pdf", summary="Download a certificate PDF",
            status_code=307, response_class=RedirectResponse,
            responses={307: {"description": "Redirect to a short-lived signed URL of the PDF"}, **_NOT_FOUND})
async def certificate_pdf(certificate_id: uuid.UUID, user: CurrentUser, session: SessionDep,
                          storage: StorageDep, settings: SettingsDep) -> RedirectResponse:
    """For the certificate's owner, a ministry admin, or an admin of its province. Anyone else gets 404, the
    same answer as for a certificate that does not exist."""
    url = await certificates.pdf_download_url(session, user, certificate_id, storage=storage,
                                              settings=settings)
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})


@router.get("/certificates/{certificate_id}/credential", summary="Open Badges 3.0 credential (VC-JWT)",
            response_model=CredentialResponse,
            responses={**_NOT_FOUND, 409: problem("The certificate is revoked")})
async def certificate_credential(certificate_id: uuid.UUID, user: CurrentUser, session: SessionDep,
                                 keys: KeysDep, settings: SettingsDep) -> CredentialResponse:
    """An `OpenBadgeCredential` signed RS256 as a VC-JWT, for a digital wallet or an employer. Verify it with
    the key named by its `kid` at `/.well-known/jwks.json`, or through
    `POST /api/v1/certificates/verify-credential`."""
    token = await credentials.issue_credential(session, user, certificate_id, keys=keys, settings=settings)
    return CredentialResponse(credential=token, issuer=credentials.issuer_id(settings),
                              jwks_uri=credentials.jwks_uri(settings))


@router.get("/certificates/verify/{serial}", summary="Verify a certificate by serial (public)",
            response_model=CertificateVerification, dependencies=[VerifyRate],
            responses={404: problem("Unknown serial (problem+json)"), **_LIMITED})
async def verify_certificate(serial: str, session: SessionDep,
                             settings: SettingsDep) -> CertificateVerification:
    """No sign-in. `status` is `valid` or `revoked` (with `revoked_reason` and `revoked_at`; a reissued
    certificate has reason `superseded` and `superseded_by`), plus every fact the certificate prints.
    Serials are matched ignoring case, spaces and hyphens; rate-limited per client IP."""
    return certificates.public_verification(await certificates.verify_serial(session, serial), settings)


@router.post("/certificates/verify-credential", summary="Verify a presented credential (public)",
             response_model=CredentialVerification, dependencies=[VerifyRate], responses=_LIMITED)
async def verify_presented_credential(body: CredentialPresentation, session: SessionDep, keys: KeysDep,
                                      settings: SettingsDep) -> CredentialVerification:
    """Checks the VC-JWT's RS256 signature against our published keys, that we are its issuer, and that the
    certificate behind it is still valid. Always 200: the verdict is in `valid` and `checks`."""
    return await credentials.verify_credential(session, body.credential, keys=keys, settings=settings)


@router.post("/admin/certificates/{certificate_id}/revoke", summary="Revoke a certificate",
             response_model=CertificatePublic,
             responses={**_NOT_FOUND, 409: problem("Already revoked")})
async def revoke_certificate(certificate_id: uuid.UUID, body: RevokeRequest, admin: UserAdmin,
                             session: SessionDep, settings: SettingsDep) -> CertificatePublic:
    """Ministry admins, or province admins for certificates of their province. The certificate keeps
    verifying, as revoked with this reason, forever."""
    cert = await certificates.revoke_certificate(session, admin, certificate_id, body.reason)
    return certificates.public_certificate(cert, settings)


@router.get("/issuer", summary="Issuer profile (Open Badges 3.0 Profile)")
async def issuer(settings: SettingsDep) -> dict:
    """The stable URL every credential names as its issuer (`iss`)."""
    return credentials.issuer_profile(settings)
