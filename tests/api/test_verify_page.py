"""The public verification page (/verify/{serial}) that the certificate's QR code opens."""

import re
from datetime import UTC, date, datetime
from html import escape

import pytest

from app.core.localtime import local_date
from app.models.identity import Role
from app.services.certificates.issuing import reissue_for_name_change
from app.services.certificates.pdf import vietnamese_date
from app.services.certificates.serial import new_serial
from tests.factories import auth, make_user, token_for
from tests.factories.certificates import COURSE, NAME, issue, issue_without_pdf


def _assert_plain_html_for_phones(r):
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in r.text and 'name="viewport"' in r.text
    assert "<script" not in r.text.lower() and "default-src 'none'" in r.headers["content-security-policy"]


async def test_after_a_completion_the_page_shows_the_learner_and_the_course(client, session, db):
    done = await issue(session, db)  # record_completion queues the job; the runner issues it
    r = await client.get(f"/verify/{done.certificate.serial}")  # no sign-in
    assert r.status_code == 200
    _assert_plain_html_for_phones(r)
    assert NAME in r.text and COURSE in r.text and "Giấy chứng nhận hợp lệ" in r.text
    for fact in ("1,5 giờ", "Hà Nội", "Người dân", done.certificate.serial, "Bộ Khoa học và Công nghệ"):
        assert fact in r.text, fact
    assert re.search(r"ngày \d{1,2} tháng \d{1,2} năm \d{4}", r.text)


async def test_after_a_revoke_the_page_shows_revoked_with_the_reason(client, session, settings, keyring):
    done = await issue_without_pdf(session, settings)
    admin = await make_user(session, role=Role.ministry_admin)
    r = await client.post(f"/api/v1/admin/certificates/{done.certificate.id}/revoke",
                          json={"reason": "Gian lận <bài kiểm tra>"},
                          headers=auth(token_for(keyring, settings, admin)))
    assert r.status_code == 200
    page = await client.get(f"/verify/{done.certificate.serial}")
    assert page.status_code == 200
    assert "Giấy chứng nhận đã bị thu hồi" in page.text and "Giấy chứng nhận hợp lệ" not in page.text
    assert escape("Gian lận <bài kiểm tra>") in page.text and "<bài" not in page.text  # escaped, not markup
    assert NAME in page.text and COURSE in page.text  # the facts stay visible


async def test_superseded_certificate_links_to_its_replacement_and_back(client, session, settings):
    done = await issue_without_pdf(session, settings)
    done.user.full_name = "Nguyễn Thị Hồng Nhung Anh"
    [new] = await reissue_for_name_change(session, done.user)
    old_page = (await client.get(f"/verify/{done.certificate.serial}")).text
    assert "Đã thu hồi" in old_page and "Đã được cấp lại" in old_page
    assert f'href="/verify/{new.serial}"' in old_page
    new_page = (await client.get(f"/verify/{new.serial}")).text
    assert "Giấy chứng nhận hợp lệ" in new_page and "Nguyễn Thị Hồng Nhung Anh" in new_page
    assert f'href="/verify/{done.certificate.serial}"' in new_page


async def test_unknown_serial_is_a_404_page(client):
    for serial in (new_serial(2026), "HS-2026-<b>x<b>"):
        r = await client.get(f"/verify/{serial}")
        assert r.status_code == 404
        _assert_plain_html_for_phones(r)
        assert "Không tìm thấy giấy chứng nhận" in r.text and "<b>x" not in r.text


async def test_search_form_sends_a_typed_serial_to_its_page(client):
    form = await client.get("/verify")
    assert form.status_code == 200 and '<form method="get" action="/verify">' in form.text
    r = await client.get("/verify", params={"serial": " hs-2026-7k3q-9xw2-m "})
    assert r.status_code == 303 and r.headers["location"] == "/verify/hs-2026-7k3q-9xw2-m"


async def test_page_is_never_cached_nor_indexed(client, session, settings):
    done = await issue_without_pdf(session, settings)
    r = await client.get(f"/verify/{done.certificate.serial}")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-robots-tag"] == "noindex"


ENGLISH_WORDS = re.compile(r"\b(valid|revoked|certificate|issued|JSON|JWKS|version)\b", re.IGNORECASE)


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(style|title)>.*?</\1>", " ", html, flags=re.S))


async def test_the_vietnamese_page_is_administrative_vietnamese_with_the_ministry_as_issuer(client, session, db):
    done = await issue(session, db, completed_at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))  # 4 Dec in Hà Nội
    page = (await client.get(f"/verify/{done.certificate.serial}")).text
    text = _visible_text(page)
    assert not ENGLISH_WORDS.search(text), ENGLISH_WORDS.search(text)
    assert "do Bộ Khoa học và Công nghệ cấp qua nền tảng HọcSố" in text and "do HọcSố cấp" not in text
    assert "ngày 04 tháng 12 năm 2026" in text  # Decree 30/2020: a leading zero below 10
    issued = local_date(done.certificate.issued_at)
    assert f"Hà Nội, {vietnamese_date(issued)}" in text  # the place before the date of issue
    assert "Phiên bản" not in text


async def test_the_english_page_on_accept_language_en(client, session, db):
    done = await issue(session, db, completed_at=datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
    page = (await client.get(f"/verify/{done.certificate.serial}", headers={"Accept-Language": "en"})).text
    assert '<html lang="en">' in page and "Valid certificate" in page
    assert "4 December 2026" in page and "issued by Bộ Khoa học và Công nghệ through the HocSo platform" in page
    assert "Giấy chứng nhận" not in _visible_text(page)


@pytest.mark.parametrize(("day", "words"), [
    (date(2026, 12, 4), "ngày 04 tháng 12 năm 2026"), (date(2026, 2, 15), "ngày 15 tháng 02 năm 2026"),
    (date(2026, 3, 9), "ngày 09 tháng 3 năm 2026"), (date(2026, 11, 23), "ngày 23 tháng 11 năm 2026"),
])
def test_dates_are_written_as_official_papers_write_them(day, words):
    assert vietnamese_date(day) == words
