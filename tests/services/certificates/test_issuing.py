"""Certificates: serials, issuing through the job runner, the printed facts, the PDF, revocation, reissue."""

import asyncio
import io
import re
import unicodedata
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import Conflict, NotFound
from app.core.storage import build_storage
from app.models.certificate import SUPERSEDED, Certificate
from app.models.identity import Role
from app.services import jobs
from app.services.certificates import issuing as certificates
from app.services.certificates import pdf as certificate_pdf
from app.services.certificates.serial import (
    ALPHABET,
    check_character,
    format_serial,
    new_serial,
    normalise_serial,
)
from tests.factories import make_user
from tests.factories.certificates import COURSE, NAME, complete_course, issue, pdf_text

# Reads today's local date or year: tests/test_clock.py runs these again with the clock moved.
pytestmark = pytest.mark.calendar

SERIAL_SHAPE = re.compile(r"^HS-\d{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]$")


async def _count(session, **where) -> int:
    query = select(func.count()).select_from(Certificate)
    for name, value in where.items():
        query = query.where(getattr(Certificate, name) == value)
    return (await session.execute(query)).scalar_one()


# --- serials -----------------------------------------------------------------------------------------------


def test_serial_has_year_eight_unambiguous_characters_and_a_check_character():
    serials = {new_serial(2026) for _ in range(200)}
    assert len(serials) == 200
    assert all(SERIAL_SHAPE.match(s) and s.startswith("HS-2026-") for s in serials)
    assert not set("01ILOU") & set("".join(s[8:] for s in serials))


def test_check_character_catches_every_single_mistyped_character():
    serial = format_serial(2026, "7K3Q9XW2")
    random_part, check = serial[8:12] + serial[13:17], serial[-1]
    assert normalise_serial(serial) == serial
    for position in range(len(random_part)):
        for symbol in ALPHABET:
            if symbol == random_part[position]:
                continue
            typo = random_part[:position] + symbol + random_part[position + 1:]
            assert check_character(typo) != check, (position, symbol)


def test_serial_typed_in_lower_case_or_without_hyphens_is_recognised():
    serial = format_serial(2026, "7K3Q9XW2")
    assert normalise_serial(serial.lower()) == serial
    assert normalise_serial(serial.replace("-", " ")) == serial
    assert normalise_serial(serial.replace("-", "")) == serial


@pytest.mark.parametrize("text", ["", "HS-2026", "XX-2026-7K3Q-9XW2-M", "HS-2026-7K3Q-9XW0-M",
                                  "HS-2026-" + "2" * 40])
def test_text_that_cannot_be_a_serial_is_refused(text):
    assert normalise_serial(text) is None


def test_wrong_check_character_is_refused():
    serial = format_serial(2026, "7K3Q9XW2")
    wrong = next(c for c in ALPHABET if c != serial[-1])
    assert normalise_serial(serial[:-1] + wrong) is None


# --- issuing -----------------------------------------------------------------------------------------------


async def test_completion_of_certificate_course_issues_one_certificate_with_printed_facts(session, db,
                                                                                          settings):
    done = await issue(session, db, completed_at=datetime(2026, 11, 22, 18, 30, tzinfo=UTC))
    cert = done.certificate
    assert cert is not None and cert.status == "valid" and SERIAL_SHAPE.match(cert.serial)
    assert cert.user_id == done.user.id and cert.completion_id == done.completion.id
    assert cert.facts == {
        "full_name": NAME, "course_title": COURSE, "course_slug": done.course.course.slug,
        "course_version": 1,
        "hours": 1.5, "completed_on": "2026-11-23",  # 01:30 on the 23rd in Hà Nội
        "province_code": "01", "province_name": "Hà Nội", "audience": "citizen",
        "issuing_body": settings.issuing_body, "issuing_place": settings.issuing_place,
    }
    assert cert.pdf_key and await build_storage(settings).head(cert.pdf_key) is not None


async def test_running_the_job_again_issues_nothing_new(session, db):
    done = await issue(session, db)
    jobs.enqueue(session, certificates.ISSUE_JOB, {"completion_id": str(done.completion.id)})
    await session.flush()
    await jobs.run_pending(db)
    assert await _count(session, completion_id=done.completion.id) == 1


async def test_course_without_certificate_gets_none(session, db, settings):
    _, completion, _ = await complete_course(session, certificate=False)
    assert await certificates.issue_certificate(session, completion.id, settings=settings) is None
    assert await _count(session, completion_id=completion.id) == 0


async def test_certificate_revoked_by_admin_is_not_silently_reissued(session, db, settings):
    done = await issue(session, db)
    admin = await make_user(session, role=Role.ministry_admin)
    await certificates.revoke_certificate(session, admin, done.certificate.id, "Cấp nhầm")
    assert await certificates.issue_certificate(session, done.completion.id, settings=settings) is None
    assert await _count(session, completion_id=done.completion.id) == 1


async def test_serial_collision_draws_a_new_serial(session, db, settings, monkeypatch):
    first = await issue(session, db)
    fresh = new_serial(2026)
    draws = iter([first.certificate.serial, fresh])
    monkeypatch.setattr(certificates, "new_serial", lambda year: next(draws))
    _, completion, _ = await complete_course(session)
    cert = await certificates.issue_certificate(session, completion.id, settings=settings)
    assert cert is not None and cert.serial == fresh


async def test_database_allows_one_valid_certificate_per_completion(session, db):
    done = await issue(session, db)
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(Certificate(serial=new_serial(2026), completion_id=done.completion.id,
                                    user_id=done.user.id, facts=done.certificate.facts))
            await session.flush()


@pytest.mark.parametrize(("minutes", "hours"),
                         [(0, None), (10, 0.5), (60, 1.0), (90, 1.5), (100, 1.5), (135, 2.0)])
def test_hours_are_rounded_to_the_half_hour(minutes, hours):
    assert certificates.course_hours(minutes) == hours


# --- the PDF -----------------------------------------------------------------------------------------------


async def test_pdf_prints_vietnamese_text_exactly_with_an_embedded_font(session, db, settings):
    done = await issue(session, db, completed_at=datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    cert = done.certificate
    data = build_storage(settings).path_of(cert.pdf_key).read_bytes()
    text = unicodedata.normalize("NFC", pdf_text(data))
    for expected in (NAME, COURSE, "ngày 23 tháng 11 năm 2026", "1,5 giờ", cert.serial, "Hà Nội",
                     settings.issuing_body.upper(), certificates.verify_url(settings, cert.serial)):
        assert expected in text, expected
    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = [str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()]
    assert fonts and all("DejaVuSans" in f for f in fonts)
    assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape


async def test_pdf_qr_code_encodes_the_verification_url(session, db, settings, monkeypatch):
    encoded = []
    real_qr = certificate_pdf.qr_png
    monkeypatch.setattr(certificate_pdf, "qr_png",
                        lambda payload: encoded.append(payload) or real_qr(payload))
    done = await issue(session, db)
    url = f"http://test/verify/{done.certificate.serial}"
    assert encoded == [url]

    zxingcpp = pytest.importorskip("zxingcpp")  # dev dependency: decodes the QR as a phone camera would
    data = build_storage(settings).path_of(done.certificate.pdf_key).read_bytes()
    images = PdfReader(io.BytesIO(data)).pages[0].images
    decoded = [r.text for image in images for r in zxingcpp.read_barcodes(image.image)]
    assert decoded == [url]


# --- revocation and reissue --------------------------------------------------------------------------------


async def test_revoke_records_reason_and_time_and_a_second_revoke_conflicts(session, db):
    done = await issue(session, db)
    admin = await make_user(session, role=Role.province_admin, province_code="01")
    cert = await certificates.revoke_certificate(session, admin, done.certificate.id,
                                                 "  Gian lận bài kiểm tra ")
    assert (cert.status, cert.revoked_reason) == ("revoked", "Gian lận bài kiểm tra")
    assert cert.revoked_at is not None
    with pytest.raises(Conflict):
        await certificates.revoke_certificate(session, admin, done.certificate.id, "Lần hai")


async def test_province_admin_cannot_reach_another_provinces_certificate(session, db):
    done = await issue(session, db, province_code="01")
    other = await make_user(session, role=Role.province_admin, province_code="79")
    content = await make_user(session, role=Role.content_admin)
    for admin in (other, content):
        with pytest.raises(NotFound):
            await certificates.revoke_certificate(session, admin, done.certificate.id, "Không được phép")
        with pytest.raises(NotFound):
            await certificates.get_certificate_for(session, admin, done.certificate.id)


async def test_name_correction_reissues_and_supersedes_the_old_certificate(session, db, settings):
    done = await issue(session, db)
    old = done.certificate
    done.user.full_name = "Nguyễn Thị Hồng Nhung Anh"
    [new] = await certificates.reissue_for_name_change(session, done.user)
    await jobs.run_pending(db)  # renders the new PDF
    await session.refresh(old)
    await session.refresh(new)
    assert (old.status, old.revoked_reason, old.superseded_by_id) == ("revoked", SUPERSEDED, new.id)
    assert new.status == "valid" and new.serial != old.serial and new.completion_id == old.completion_id
    assert new.facts == {**old.facts, "full_name": "Nguyễn Thị Hồng Nhung Anh"}
    assert "Nguyễn Thị Hồng Nhung Anh" in pdf_text(build_storage(settings).path_of(new.pdf_key).read_bytes())
    found = await certificates.verify_serial(session, old.serial)
    assert found.superseded_by == new.serial
    assert (await certificates.verify_serial(session, new.serial)).replaces == old.serial


async def test_same_name_in_another_unicode_form_reissues_nothing(session, db):
    done = await issue(session, db)
    done.user.full_name = unicodedata.normalize("NFD", NAME)
    assert await certificates.reissue_for_name_change(session, done.user) == []
    assert await _count(session, user_id=done.user.id) == 1


async def test_unknown_serial_is_not_found(session):
    with pytest.raises(NotFound):
        await certificates.verify_serial(session, new_serial(2026))


async def test_two_workers_issuing_one_completion_at_once_end_with_one_certificate(committed_db, settings):
    async with committed_db.session() as s:
        _, completion, _ = await complete_course(s)

    async def worker():
        async with committed_db.session() as s:
            return (await certificates.issue_certificate(s, completion.id, settings=settings)).id

    first, second = await asyncio.gather(worker(), worker())
    assert first == second
    async with committed_db.session() as s:
        assert await _count(s, completion_id=completion.id) == 1
