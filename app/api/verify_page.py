"""The public verification page the certificate's QR code opens: server-rendered HTML in administrative
Vietnamese (English with `Accept-Language: en`), no sign-in, no JavaScript, readable on a phone. It shows every
printed fact, so a doctored PDF shows up as a mismatch, and a revoked certificate stays here, marked revoked with
its reason. The certificate is issued by the configured body (a ministry); HọcSố is only the platform.
"""

from datetime import date, datetime
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.api.deps import RateLimitsDep, SessionDep
from app.api.problems import html_page
from app.api.v1.certificates import check_verify_rate
from app.core.errors import NotFound, RateLimited
from app.core.i18n import current_language
from app.core.localtime import local_date
from app.models.certificate import SUPERSEDED, CertificateStatus
from app.services.certificates import issuing as certificates
from app.services.certificates.pdf import audience_label, english_date, hours_text, place_and_date, vietnamese_date
from app.services.certificates.serial import normalise_serial

router = APIRouter(tags=["certificates"])
AUDIENCE_EN = {"citizen": "Citizen", "official": "Civil servant or public employee"}

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


# Vietnamese (administrative wording) and English, chosen by Accept-Language.
WORDS = {
    "brand": ("Nền tảng học trực tuyến HọcSố · Xác minh giấy chứng nhận",
              "HocSo online learning platform · Certificate verification"),
    "valid": ("✓ Giấy chứng nhận hợp lệ", "✓ Valid certificate"),
    "valid_text": ("Giấy chứng nhận này do {body} cấp qua nền tảng HọcSố và đang có hiệu lực.",
                   "This certificate was issued by {body} through the HocSo platform and is in force."),
    "revoked": ("✗ Giấy chứng nhận đã bị thu hồi", "✗ Certificate revoked"),
    "superseded": ("Đã được cấp lại (thông tin người học được đính chính)",
                   "Reissued (the learner's details were corrected)"),
    "reason": ("Lý do thu hồi", "Reason"), "revoked_on": ("Thu hồi", "Revoked on"),
    "replacement": ("Giấy chứng nhận thay thế", "Replaced by"),
    "serial": ("Số hiệu", "Serial number"), "name": ("Họ và tên", "Full name"), "course": ("Khóa học", "Course"),
    "hours": ("Thời lượng", "Study time"), "completed": ("Hoàn thành", "Completed on"),
    "audience": ("Đối tượng", "Audience"), "province": ("Tỉnh, thành phố", "Province"),
    "issuer": ("Cơ quan cấp", "Issued by"), "issued": ("Nơi cấp, ngày cấp", "Place and date of issue"),
    "replaces": ("Thay thế giấy chứng nhận", "Replaces certificate"),
    "match": ("Mọi thông tin in trên giấy chứng nhận phải trùng khớp với trang này; nếu khác, giấy chứng nhận "
              "đã bị sửa đổi.",
              "Everything printed on the certificate must match this page; if anything differs, the paper "
              "was altered."),
    "machine": ("Dữ liệu để máy đọc", "Machine-readable data (JSON)"),
    "keys": ("Khóa công khai để kiểm tra chữ ký số", "Public keys to check the digital signature"),
    "search_title": ("Tra cứu giấy chứng nhận", "Look up a certificate"),
    "search_text": ("Nhập số hiệu in trên giấy chứng nhận.", "Enter the serial number printed on the certificate."),
    "search_button": ("Tra cứu", "Look up"),
    "not_found": ("Không tìm thấy giấy chứng nhận", "Certificate not found"),
    "not_found_text": ("Không có giấy chứng nhận nào mang số hiệu {serial}.{hint} Hãy kiểm tra lại từng ký tự.",
                       "No certificate has the serial number {serial}.{hint} Please check each character."),
    "bad_serial": (" Số hiệu này sai định dạng hoặc sai ký tự kiểm tra.",
                   " This serial number is malformed or its check character is wrong."),
    "too_many": ("Quá nhiều lượt tra cứu", "Too many lookups"),
    "retry": ("Vui lòng thử lại sau {seconds} giây.", "Please try again in {seconds} seconds."),
    "valid_title": ("Hợp lệ", "Valid"), "revoked_title": ("Đã thu hồi", "Revoked"),
}


def _w(key: str, **params: object) -> str:
    return WORDS[key][1 if current_language() == "en" else 0].format(**params)


def _page(title: str, body: str, status_code: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="{current_language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)} · HọcSố</title><style>{_STYLE}</style></head>"
        f'<body><main><p class="brand">{_w("brand")}</p>{body}</main></body></html>'
    )
    return HTMLResponse(html, status_code=status_code, headers={**_HEADERS, **(headers or {})})


def _date(day: date) -> str:
    return english_date(day) if current_language() == "en" else vietnamese_date(day)


def _day(moment: datetime | None) -> str:
    return _date(local_date(moment)) if moment else "—"


def _issued(place: str | None, moment: datetime) -> str:
    day = local_date(moment)
    if current_language() == "en":
        return f"{place}, {english_date(day)}" if place else english_date(day)
    return place_and_date(place, day)


def _link(serial: str) -> str:
    return f'<a class="serial" href="/verify/{quote(serial)}">{escape(serial)}</a>'


def _status_block(found: certificates.Verification) -> str:
    cert = found.certificate
    if cert.status == CertificateStatus.valid:
        return (f'<section class="status valid"><h1>{_w("valid")}</h1>'
                f"<p>{escape(_w('valid_text', body=cert.facts['issuing_body']))}</p></section>")
    reason = _w("superseded") if cert.revoked_reason == SUPERSEDED else cert.revoked_reason or "—"
    replacement = (f"<p>{_w('replacement')}: {_link(found.superseded_by)}</p>" if found.superseded_by else "")
    return (f'<section class="status revoked"><h1>{_w("revoked")}</h1>'
            f"<p>{_w('reason')}: {escape(reason)}</p><p>{_w('revoked_on')} {_day(cert.revoked_at)}</p>"
            f"{replacement}</section>")


def _facts_block(found: certificates.Verification) -> str:
    cert, facts = found.certificate, found.certificate.facts
    english = current_language() == "en"
    hours = hours_text(facts.get("hours"))
    rows = [
        (_w("serial"), f'<span class="serial">{escape(cert.serial)}</span>'),
        (_w("name"), escape(facts["full_name"])),
        (_w("course"), escape(facts["course_title"])),  # the version number is in the JSON, for machines
        (_w("hours"), escape((hours.replace(",", ".").replace(" giờ", " h") if english else hours) or "—")),
        (_w("completed"), escape(_date(date.fromisoformat(str(facts["completed_on"]))))),
        (_w("audience"), escape(AUDIENCE_EN.get(facts["audience"], facts["audience"]) if english
                                else audience_label(facts["audience"]))),
        (_w("province"), escape(facts.get("province_name") or "—")),
        (_w("issuer"), escape(facts["issuing_body"])),
        (_w("issued"), escape(_issued(facts.get("issuing_place"), cert.issued_at))),
    ]
    if found.replaces:
        rows.append((_w("replaces"), _link(found.replaces)))
    return "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows) + "</dl>"


def _footer(serial: str) -> str:
    api = f"/api/v1/certificates/verify/{quote(serial)}"
    return (f"<footer><p>{_w('match')}</p>"
            f'<p><a href="{api}">{_w("machine")}</a> · <a href="/.well-known/jwks.json">{_w("keys")}</a></p>'
            "</footer>")


def _search_form(value: str = "") -> str:
    return (f'<form method="get" action="/verify"><label for="s" hidden>{_w("serial")}</label>'
            f'<input id="s" name="serial" value="{escape(value)}" placeholder="HS-2026-7K3Q-9XW2-M" '
            f'autocomplete="off" required><button type="submit">{_w("search_button")}</button></form>')


def _limited(exc: RateLimited) -> HTMLResponse:
    body = f"<h1>{_w('too_many')}</h1><p>{_w('retry', seconds=exc.params['retry_after'])}</p>"
    return _page(_w("too_many"), body, 429, exc.headers)


@router.get("/verify", response_class=HTMLResponse, response_model=None, include_in_schema=False)
async def verify_search(serial: str | None = None) -> HTMLResponse | RedirectResponse:
    """A form for people who type the serial from paper; it sends them to the serial's page."""
    if serial:
        return RedirectResponse(f"/verify/{quote(serial.strip()[:40])}", status_code=303)
    body = f"<h1>{_w('search_title')}</h1><p>{_w('search_text')}</p>" + _search_form()
    return _page(_w("search_title"), body)


@router.get("/verify/{serial}", response_class=HTMLResponse, summary="Verification page (HTML, public)",
            responses={200: {"content": {"text/html": {}}}, 404: html_page("Unknown serial"),
                       429: html_page("Too many lookups from this address (Retry-After)")})
async def verify_page(serial: str, request: Request, session: SessionDep, limits: RateLimitsDep) -> HTMLResponse:
    """What the certificate's QR code opens: status (valid or revoked, with the reason and the replacing
    certificate) and every printed fact, in Vietnamese. Rate-limited per client IP with the JSON endpoint."""
    try:
        await check_verify_rate(request, limits)
    except RateLimited as exc:
        return _limited(exc)
    try:
        found = await certificates.verify_serial(session, serial)
    except NotFound:
        hint = "" if normalise_serial(serial) else _w("bad_serial")
        shown = f'<span class="serial">{escape(serial[:40])}</span>'
        body = (f"<h1>{_w('not_found')}</h1><p>{_w('not_found_text', serial=shown, hint=hint)}</p>"
                + _search_form(serial[:40]))
        return _page(_w("not_found"), body, 404)
    cert = found.certificate
    title = f"{_w('valid_title' if cert.status == CertificateStatus.valid else 'revoked_title')} · {cert.serial}"
    return _page(title, _status_block(found) + _facts_block(found) + _footer(cert.serial))
