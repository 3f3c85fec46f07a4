import pytest

from app.core.i18n import negotiate, t


@pytest.mark.parametrize(("header", "lang"), [
    (None, "vi"), ("", "vi"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
    ("fr-FR, en;q=0.5", "en"), ("de", "vi"), ("en;q=0.2, vi;q=0.8", "vi"),
])
def test_language_negotiation(header, lang):
    assert negotiate(header) == lang


def test_messages_render_with_parameters_in_both_languages():
    assert t("rate_limited", "vi", retry_after=5) == "Quá nhiều yêu cầu. Vui lòng thử lại sau 5 giây."
    assert t("rate_limited", "en", retry_after=5) == "Too many requests. Try again in 5 seconds."
