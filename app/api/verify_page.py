"""The public verification page the certificate's QR code opens: server-rendered Vietnamese HTML, no sign-in,
no JavaScript, readable on a phone. It shows every printed fact, so a doctored PDF shows up as a mismatch,
and a revoked certificate stays here, marked revoked with its reason.
"""

from datetime import date, datetime
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.api.deps import SessionDep
from app.api.problems import problem
from app.api.v1.certificates import check_verify_rate
from app.core.errors import NotFound, RateLimited
from app.core.localtime import local_date
from app.models.certificate import SUPERSEDED, CertificateStatus
from app.services.certificates import issuing as certificates
from app.services.certificates.pdf import audience_label, hours_text, vietnamese_date
from app.services.certificates.serial import normalise_serial

router = APIRouter(tags=["certificates"])

# No script may run and nothing is loaded from elsewhere; inline styles only.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",  # a revocation must show at once
    "X-Robots-Tag": "noindex",  # a name is shown to whoever holds the serial, not to search engines
    "Referrer-Policy": "no-referrer",
}

_STYLE = """
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;
color:#212529;background:#f4f1ea;line-height:1.5;font-size:17px}
main{max-width:40rem;margin:0 auto;padding:1rem}
.brand{font-weight:700;color:#a4161a;margin:.5rem 0 1rem}
.status{border-radius:.5rem;padding:1rem;margin-bottom:1rem;color:#fff}
.status h1{margin:0;font-size:1.5rem}.status p{margin:.4rem 0 0}
.valid{background:#1b7a3e}.revoked{background:#a4161a}
.status a{color:#fff;font-weight:700}
dl{background:#fff;border-radius:.5rem;padding:.5rem 1rem;margin:0 0 1rem;border:1px solid #ddd}
dt{font-size:.85rem;color:#6c757d;margin-top:.6rem}dd{margin:0 0 .4rem;font-weight:600;word-break:break-word}
.serial{font-family:ui-monospace,Menlo,Consolas,monospace;letter-spacing:.05em}
footer{font-size:.9rem;color:#495057}
form{display:flex;gap:.5rem;flex-wrap:wrap}input{flex:1;min-width:12rem;font-size:1rem;padding:.5rem}
button{font-size:1rem;padding:.5rem 1rem}
"""


def _page(title: str, body: str, status_code: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)} · HọcSố</title><style>{_STYLE}</style></head>"
        f'<body><main><p class="brand">HọcSố · Xác minh giấy chứng nhận</p>{body}</main></body></html>'
    )
    return HTMLResponse(html, status_code=status_code, headers={**_HEADERS, **(headers or {})})


def _day(moment: datetime | None) -> str:
    return vietnamese_date(local_date(moment)) if moment else "—"


def _link(serial: str) -> str:
    return f'<a class="serial" href="/verify/{quote(serial)}">{escape(serial)}</a>'


def _status_block(found: certificates.Verification) -> str:
    cert = found.certificate
    if cert.status == CertificateStatus.valid:
        return ('<section class="status valid"><h1>✓ Chứng nhận hợp lệ <small lang="en">(valid)</small></h1>'
                "<p>Giấy chứng nhận này do HọcSố cấp và đang có hiệu lực.</p></section>")
    if cert.revoked_reason == SUPERSEDED:
        reason = "Đã được cấp lại (thông tin người học được đính chính)"
    else:
        reason = cert.revoked_reason or "—"
    replacement = (f"<p>Chứng nhận thay thế: {_link(found.superseded_by)}</p>" if found.superseded_by else "")
    return ('<section class="status revoked"><h1>✗ Đã thu hồi <small lang="en">(revoked)</small></h1>'
            f"<p>Lý do: {escape(reason)}</p><p>Thu hồi {_day(cert.revoked_at)}</p>{replacement}</section>")


def _facts_block(found: certificates.Verification) -> str:
    cert, facts = found.certificate, found.certificate.facts
    rows = [
        ("Số hiệu", f'<span class="serial">{escape(cert.serial)}</span>'),
        ("Họ và tên", escape(facts["full_name"])),
        ("Khóa học", escape(facts["course_title"])),
        ("Phiên bản khóa học", escape(str(facts["course_version"]))),
        ("Thời lượng", escape(hours_text(facts.get("hours")) or "—")),
        ("Hoàn thành", escape(vietnamese_date(date.fromisoformat(str(facts["completed_on"]))))),
        ("Đối tượng", escape(audience_label(facts["audience"]))),
        ("Tỉnh, thành phố", escape(facts.get("province_name") or "—")),
        ("Cơ quan cấp", escape(facts["issuing_body"])),
        ("Ngày cấp", escape(_day(cert.issued_at))),
    ]
    if found.replaces:
        rows.append(("Thay thế chứng nhận", _link(found.replaces)))
    return "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows) + "</dl>"


def _footer(serial: str) -> str:
    api = f"/api/v1/certificates/verify/{quote(serial)}"
    return ("<footer><p>Mọi thông tin in trên giấy chứng nhận phải trùng khớp với trang này; nếu khác, giấy "
            "đã bị sửa.</p>"
            f'<p>Dữ liệu cho máy: <a href="{api}">JSON</a> · Khóa công khai: '
            '<a href="/.well-known/jwks.json">JWKS</a></p></footer>')


def _search_form(value: str = "") -> str:
    return ('<form method="get" action="/verify"><label for="s" hidden>Số hiệu</label>'
            f'<input id="s" name="serial" value="{escape(value)}" placeholder="HS-2026-7K3Q-9XW2-M" '
            'autocomplete="off" required><button type="submit">Tra cứu</button></form>')


def _limited(exc: RateLimited) -> HTMLResponse:
    body = ("<h1>Quá nhiều lượt tra cứu</h1>"
            f"<p>Vui lòng thử lại sau {exc.params['retry_after']} giây.</p>")
    return _page("Quá nhiều lượt tra cứu", body, 429, exc.headers)


@router.get("/verify", response_class=HTMLResponse, response_model=None, include_in_schema=False)
async def verify_search(serial: str | None = None) -> HTMLResponse | RedirectResponse:
    """A form for people who type the serial from paper; it sends them to the serial's page."""
    if serial:
        return RedirectResponse(f"/verify/{quote(serial.strip()[:40])}", status_code=303)
    body = "<h1>Tra cứu giấy chứng nhận</h1><p>Nhập số hiệu in trên giấy chứng nhận.</p>" + _search_form()
    return _page("Tra cứu giấy chứng nhận", body)


@router.get("/verify/{serial}", response_class=HTMLResponse, summary="Verification page (HTML, public)",
            responses={200: {"content": {"text/html": {}}}, 404: problem("Unknown serial (HTML)"),
                       429: problem("Too many lookups from this address (HTML, Retry-After)")})
async def verify_page(serial: str, request: Request, session: SessionDep) -> HTMLResponse:
    """What the certificate's QR code opens: status (valid or revoked, with the reason and the replacing
    certificate) and every printed fact, in Vietnamese. Rate-limited per client IP with the JSON endpoint."""
    try:
        check_verify_rate(request)
    except RateLimited as exc:
        return _limited(exc)
    try:
        found = await certificates.verify_serial(session, serial)
    except NotFound:
        hint = "" if normalise_serial(serial) else " Số hiệu này sai định dạng hoặc sai ký tự kiểm tra."
        shown = f'<span class="serial">{escape(serial[:40])}</span>'
        body = ("<h1>Không tìm thấy chứng nhận</h1>"
                f"<p>Không có giấy chứng nhận nào mang số hiệu {shown}.{hint} "
                "Hãy kiểm tra lại từng ký tự.</p>"
                + _search_form(serial[:40]))
        return _page("Không tìm thấy chứng nhận", body, 404)
    cert = found.certificate
    title = f"{'Hợp lệ' if cert.status == CertificateStatus.valid else 'Đã thu hồi'} · {cert.serial}"
    return _page(title, _status_block(found) + _facts_block(found) + _footer(cert.serial))
