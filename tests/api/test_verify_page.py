"""The public verification page (/verify/{serial}) that the certificate's QR code opens."""

import re
from html import escape

from app.models.identity import Role
from app.services.certificates.issuing import reissue_for_name_change
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
    assert NAME in r.text and COURSE in r.text and "Chứng nhận hợp lệ" in r.text
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
    assert "Đã thu hồi" in page.text and "revoked" in page.text and "Chứng nhận hợp lệ" not in page.text
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
    assert "Chứng nhận hợp lệ" in new_page and "Nguyễn Thị Hồng Nhung Anh" in new_page
    assert f'href="/verify/{done.certificate.serial}"' in new_page


async def test_unknown_serial_is_a_404_page(client):
    for serial in (new_serial(2026), "HS-2026-<b>x<b>"):
        r = await client.get(f"/verify/{serial}")
        assert r.status_code == 404
        _assert_plain_html_for_phones(r)
        assert "Không tìm thấy chứng nhận" in r.text and "<b>x" not in r.text


async def test_search_form_sends_a_typed_serial_to_its_page(client):
    form = await client.get("/verify")
    assert form.status_code == 200 and '<form method="get" action="/verify">' in form.text
    r = await client.get("/verify", params={"serial": " hs-2026-7k3q-9xw2-m "})
    assert r.status_code == 303 and r.headers["location"] == "/verify/hs-2026-7k3q-9xw2-m"


async def test_page_is_never_cached_nor_indexed(client, session, settings):
    done = await issue_without_pdf(session, settings)
    r = await client.get(f"/verify/{done.certificate.serial}")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-robots-tag"] == "noindex"
