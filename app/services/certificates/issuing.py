"""Issuing, finding, revoking and reissuing certificates.

A certificate is issued by the job runner (job "issue_certificate", enqueued with each completion of a course
version that grants one) and never deleted: revoking only marks it, so its serial keeps verifying, as revoked.
"""

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import Conflict, NotFound
from app.core.i18n import messages
from app.core.localtime import local_date
from app.core.storage import Storage, shared_storage
from app.models.base import utcnow
from app.models.certificate import (
    SUPERSEDED,
    Certificate,
    CertificateFacts,
    CertificatePublic,
    CertificateStatus,
    CertificateVerification,
)
from app.models.completion import Completion
from app.models.course import Course, CourseVersion
from app.models.identity import Role, User
from app.models.jobs import JobKind
from app.services.certificates.pdf import render_certificate_pdf_async
from app.services.certificates.serial import new_serial, normalise_serial
from app.services.geo import load_geography
from app.services.jobs import enqueue, job_handler

ISSUE_JOB = JobKind.issue_certificate
_SERIAL_ATTEMPTS = 5  # a collision is ~10^-5 likely per attempt at national scale; 5 in a row means a bug

messages({
    "certificate_not_found": ("Không tìm thấy chứng nhận.", "Certificate not found."),
    "certificate_serial_not_found": (
        "Không có chứng nhận nào mang số hiệu {serial}.", "No certificate has the serial {serial}."),
    "certificate_already_revoked": ("Chứng nhận này đã bị thu hồi.", "This certificate is already revoked."),
    "certificate_revoked_no_credential": (
        "Chứng nhận đã bị thu hồi nên không cấp chứng chỉ số cho nó.",
        "The certificate is revoked, so no digital credential is issued for it."),
})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def verify_url(settings: Settings, serial: str) -> str:
    """The public page the QR code opens."""
    return f"{settings.public_base_url.rstrip('/')}/verify/{serial}"


def verify_api_url(settings: Settings, serial: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/certificates/verify/{serial}"


def certificate_link(cert: Certificate, settings: Settings) -> dict[str, str]:
    """What a completion shows about its certificate: `{id, serial, verify_url}`."""
    return {"id": str(cert.id), "serial": cert.serial, "verify_url": verify_url(settings, cert.serial)}


def public_certificate(cert: Certificate, settings: Settings) -> CertificatePublic:
    return CertificatePublic(
        id=cert.id, serial=cert.serial, status=CertificateStatus(cert.status),
        revoked_reason=cert.revoked_reason, revoked_at=cert.revoked_at, issued_at=cert.issued_at,
        facts=CertificateFacts(**cert.facts),
        verify_url=verify_url(settings, cert.serial), pdf_url=f"/api/v1/certificates/{cert.id}/pdf",
        credential_url=f"/api/v1/certificates/{cert.id}/credential",
    )


def course_hours(estimated_minutes: int) -> float | None:
    """Study time to the nearest half hour, never printed as 0 for a course that takes any time."""
    if estimated_minutes <= 0:
        return None
    return max(0.5, round(estimated_minutes / 30) / 2)


async def _printed_facts(session: AsyncSession, completion: Completion, user: User, course: Course,
                         version: CourseVersion, settings: Settings) -> dict[str, Any]:
    geo = await load_geography(session)
    code = completion.province_code
    unit = (geo.current.get(code) or geo.former.get(code)) if code else None
    facts = CertificateFacts(
        full_name=nfc(user.full_name), course_title=nfc(version.title), course_slug=course.slug,
        course_version=version.version, hours=course_hours(version.estimated_minutes),
        completed_on=local_date(completion.completed_at), province_code=code,
        province_name=unit.name if unit else None, audience=str(completion.audience),
        issuing_body=nfc(settings.issuing_body), issuing_place=nfc(settings.issuing_place),
    )
    return facts.model_dump(mode="json")


async def _serial_taken(session: AsyncSession, serial: str) -> bool:
    query = select(Certificate.id).where(Certificate.serial == serial)
    return (await session.execute(query)).first() is not None


async def _insert_with_fresh_serial(session: AsyncSession, *, completion_id: uuid.UUID, user_id: uuid.UUID,
                                    facts: dict[str, Any]) -> Certificate:
    """Insert a valid certificate under a new random serial, drawing again if the serial is already used.

    Raises IntegrityError when the completion already has a valid certificate (a concurrent issue won).
    """
    for attempt in range(_SERIAL_ATTEMPTS):
        issued_at = utcnow()
        cert = Certificate(serial=new_serial(local_date(issued_at).year), completion_id=completion_id,
                           user_id=user_id, facts=facts, issued_at=issued_at)
        try:
            async with session.begin_nested():
                session.add(cert)
                await session.flush()
            return cert
        except IntegrityError:
            if attempt + 1 == _SERIAL_ATTEMPTS or not await _serial_taken(session, cert.serial):
                raise
    raise AssertionError("unreachable")


async def _valid_certificate(session: AsyncSession, completion_id: uuid.UUID) -> Certificate | None:
    query = select(Certificate).where(Certificate.completion_id == completion_id,
                                      Certificate.status == CertificateStatus.valid)
    return (await session.execute(query)).scalar_one_or_none()


async def certificate_for_completion(session: AsyncSession, completion_id: uuid.UUID) -> Certificate | None:
    """The certificate a completion shows: its valid one, else its latest (revoked) one, else None."""
    query = (select(Certificate).where(Certificate.completion_id == completion_id)
             .order_by((Certificate.status == CertificateStatus.valid).desc(), Certificate.issued_at.desc())
             .limit(1))
    return (await session.execute(query)).scalar_one_or_none()


async def issue_certificate(session: AsyncSession, completion_id: uuid.UUID, *,
                            settings: Settings) -> Certificate | None:
    """Issue the certificate a completion earns, once: only for a course version with `certificate: true`.

    Idempotent per completion: an existing valid certificate is returned as it is, and a completion whose
    certificates were all revoked by an admin gets no new one behind the admin's back (None).
    """
    if (current := await _valid_certificate(session, completion_id)) is not None:
        return current
    if await certificate_for_completion(session, completion_id) is not None:
        return None
    completion = (await session.execute(
        select(Completion).where(Completion.id == completion_id))).scalar_one_or_none()
    if completion is None:
        raise NotFound("certificate_not_found")
    version = (await session.execute(select(CourseVersion).where(
        CourseVersion.course_id == completion.course_id,
        CourseVersion.version == completion.course_version))).scalar_one_or_none()
    if version is None or not version.certificate:
        return None
    user = await session.get(User, completion.user_id)
    course = await session.get(Course, completion.course_id)
    assert user is not None and course is not None  # foreign keys
    facts = await _printed_facts(session, completion, user, course, version, settings)
    try:
        return await _insert_with_fresh_serial(session, completion_id=completion.id, user_id=user.id,
                                               facts=facts)
    except IntegrityError:
        # Another worker issued it between our check and our insert: theirs is the one.
        if (current := await _valid_certificate(session, completion_id)) is not None:
            return current
        raise


async def store_certificate_pdf(session: AsyncSession, cert: Certificate, *, storage: Storage,
                                settings: Settings) -> str:
    """Render the PDF from the frozen facts, put it in storage and remember its key."""
    data = await render_certificate_pdf_async(cert.facts, serial=cert.serial,
                                              verify_url=verify_url(settings, cert.serial),
                                              issued_at=cert.issued_at)
    key = f"certificates/{cert.id}.pdf"
    await storage.put_bytes(key, data, "application/pdf")
    cert.pdf_key = key
    await session.flush()
    return key


@job_handler(ISSUE_JOB)
async def issue_certificate_job(db: Database, payload: dict[str, Any]) -> None:
    """Job: issue the completion's certificate if it has none, and make sure its PDF is in storage."""
    settings = db.settings
    # Transaction exception «jobs own their sessions» (docs/architecture.md).
    async with db.session() as session:
        cert = await issue_certificate(session, uuid.UUID(str(payload["completion_id"])), settings=settings)
        if cert is not None and cert.pdf_key is None:
            await store_certificate_pdf(session, cert, storage=shared_storage(settings), settings=settings)


async def list_my_certificates(session: AsyncSession, user: User) -> list[Certificate]:
    """A learner's certificates, newest first, revoked ones included (marked so)."""
    query = select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.issued_at.desc())
    return list((await session.execute(query)).scalars().all())


async def _admin_sees(session: AsyncSession, admin: User, cert: Certificate) -> bool:
    """Ministry admins see every certificate; province admins those issued for their province (former
    province codes roll up into the unit that absorbed them)."""
    if admin.role == Role.ministry_admin:
        return True
    if admin.role != Role.province_admin or not admin.province_code:
        return False
    geo = await load_geography(session)
    province = cert.facts.get("province_code")
    own = geo.current_code(admin.province_code)
    return province is not None and own is not None and geo.current_code(province) == own


async def get_certificate_for(session: AsyncSession, user: User, certificate_id: uuid.UUID) -> Certificate:
    """The certificate if `user` owns it or administers its learners; otherwise NotFound, exactly as for a
    certificate that does not exist, so nobody learns that someone else's certificate exists."""
    cert = await session.get(Certificate, certificate_id)
    if cert is None or (cert.user_id != user.id and not await _admin_sees(session, user, cert)):
        raise NotFound("certificate_not_found")
    return cert


async def pdf_download_url(session: AsyncSession, user: User, certificate_id: uuid.UUID, *, storage: Storage,
                           settings: Settings) -> str:
    """A short-lived signed URL of the certificate's PDF, for its owner or an admin over it. A PDF the job
    has not rendered yet (e.g. right after a reissue) is rendered now."""
    cert = await get_certificate_for(session, user, certificate_id)
    key = cert.pdf_key or await store_certificate_pdf(session, cert, storage=storage, settings=settings)
    return await storage.presigned_get(key, ttl_s=settings.media_url_ttl_s, content_type="application/pdf",
                                       filename=f"giay-chung-nhan-{cert.serial}.pdf")


@dataclass(frozen=True)
class Verification:
    certificate: Certificate
    superseded_by: str | None
    replaces: str | None


async def verify_serial(session: AsyncSession, typed_serial: str) -> Verification:
    """Anyone may look a serial up: valid or revoked, with every printed fact. Unknown serials are NotFound;
    a serial with a wrong check character is rejected without asking the database."""
    serial = normalise_serial(typed_serial)
    cert = None
    if serial is not None:
        query = select(Certificate).where(Certificate.serial == serial)
        cert = (await session.execute(query)).scalar_one_or_none()
    if cert is None:
        raise NotFound("certificate_serial_not_found", serial=typed_serial[:40])
    superseded_by = None
    if cert.superseded_by_id is not None:
        superseded_by = (await session.execute(
            select(Certificate.serial).where(Certificate.id == cert.superseded_by_id))).scalar_one()
    replaces = (await session.execute(
        select(Certificate.serial).where(Certificate.superseded_by_id == cert.id))).scalar_one_or_none()
    return Verification(cert, superseded_by, replaces)


def public_verification(found: Verification, settings: Settings) -> CertificateVerification:
    cert = found.certificate
    revoked = cert.status == CertificateStatus.revoked
    return CertificateVerification(
        serial=cert.serial, status=CertificateStatus(cert.status), valid=not revoked,
        revoked_reason=cert.revoked_reason if revoked else None,
        revoked_at=cert.revoked_at if revoked else None, superseded_by=found.superseded_by,
        replaces=found.replaces, issued_at=cert.issued_at, facts=CertificateFacts(**cert.facts),
        verify_url=verify_url(settings, cert.serial),
    )


async def revoke_certificate(session: AsyncSession, admin: User, certificate_id: uuid.UUID,
                             reason: str) -> Certificate:
    """An admin revokes a certificate with a reason; it keeps verifying, as revoked, forever.

    Province admins only reach certificates of their province (others are NotFound); revoking twice is a
    Conflict, so the first reason and time stay on record.
    """
    cert = await session.get(Certificate, certificate_id)
    if cert is None or not await _admin_sees(session, admin, cert):
        raise NotFound("certificate_not_found")
    if cert.status == CertificateStatus.revoked:
        raise Conflict("certificate_already_revoked")
    cert.status, cert.revoked_reason, cert.revoked_at = CertificateStatus.revoked, nfc(reason), utcnow()
    await session.flush()
    return cert


async def reissue_for_name_change(session: AsyncSession, user: User) -> list[Certificate]:
    """After a learner's name is corrected, every valid certificate printed with another name is reissued:
    a new certificate (new serial, same facts but the name) replaces it, and the old one is revoked with
    reason `superseded` and a link to its replacement. The PDFs are rendered by the job runner.

    Call it in the same transaction as the name change; it returns the new certificates.
    """
    name = nfc(user.full_name)
    query = select(Certificate).where(Certificate.user_id == user.id,
                                      Certificate.status == CertificateStatus.valid)
    outdated = [c for c in (await session.execute(query)).scalars().all() if c.facts.get("full_name") != name]
    reissued = []
    for old in outdated:
        old.status, old.revoked_reason, old.revoked_at = CertificateStatus.revoked, SUPERSEDED, utcnow()
        await session.flush()  # frees the completion's one valid slot for the replacement
        new = await _insert_with_fresh_serial(session, completion_id=old.completion_id, user_id=user.id,
                                              facts={**old.facts, "full_name": name})
        old.superseded_by_id = new.id
        enqueue(session, ISSUE_JOB, {"completion_id": str(old.completion_id)})
        reissued.append(new)
    await session.flush()
    return reissued
