"""The certificate as people see it: the verification page in headless Chromium (Vietnamese and English) and the
PDF rendered to PNG with poppler's pdftoppm; the screenshots are saved under var/screenshots/ to be looked at."""

import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from app.services import jobs
from app.services.certificates.issuing import certificate_for_completion, verify_url
from app.services.certificates.pdf import render_certificate_pdf
from tests.browser import live_server, screenshot_path
from tests.conftest import make_app
from tests.factories.certificates import COURSE, NAME, complete_course

FACTS = {"full_name": NAME, "course_title": COURSE, "course_slug": "ky-nang-so-co-ban", "course_version": 3,
         "hours": 1.5, "completed_on": "2026-12-04", "province_code": "01", "province_name": "Hà Nội",
         "audience": "citizen", "issuing_body": "Bộ Khoa học và Công nghệ", "issuing_place": "Hà Nội"}


async def test_verification_page_in_a_real_browser_in_vietnamese_and_english(page, browser, settings,
                                                                            committed_db, keyring):
    async with committed_db.session() as session:
        _, completion, _ = await complete_course(session, completed_at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
    await jobs.run_pending(committed_db)
    async with committed_db.session() as session:
        cert = await certificate_for_completion(session, completion.id)
    async with live_server(make_app(settings, committed_db, keyring)) as url:
        await page.goto(f"{url}/verify/{cert.serial}")
        text = await page.inner_text("main")
        await page.screenshot(path=screenshot_path("verify-page-vi"), full_page=True)
        context = await browser.new_context(locale="en-GB", viewport={"width": 420, "height": 900})  # a phone
        try:
            english_page = await context.new_page()
            await english_page.goto(f"{url}/verify/{cert.serial}")
            english = await english_page.inner_text("main")
            await english_page.screenshot(path=screenshot_path("verify-page-en"), full_page=True)
        finally:
            await context.close()
    assert "Giấy chứng nhận hợp lệ" in text and "ngày 04 tháng 12 năm 2026" in text and NAME in text
    assert "Valid certificate" in english and "4 December 2026" in english
    assert page.console_errors == []


def test_certificate_pdf_rendered_to_png(tmp_path, settings):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm missing (Debian package poppler-utils; .ci/run installs it)")
    serial = "HS-2026-7K3Q-9XW2-M"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(render_certificate_pdf(FACTS, serial=serial, verify_url=verify_url(settings, serial),
                                           issued_at=datetime(2026, 12, 4, 2, 0, tzinfo=UTC)))
    target = screenshot_path("certificate-pdf")
    subprocess.run([pdftoppm, "-png", "-r", "80", "-singlefile", str(pdf), str(target.with_suffix(""))],
                   check=True, timeout=60)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, timeout=60, capture_output=True,
                          text=True).stdout
    assert target.stat().st_size > 20_000
    assert "Hà Nội, ngày 04 tháng 12 năm 2026" in text and "BỘ KHOA HỌC VÀ CÔNG NGHỆ" in text
    assert "Phiên bản" not in text and "nền tảng" in text
