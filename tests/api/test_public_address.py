"""Changing only HOCSO_PORT moves every address the service hands out: media URLs, verification links (and so
QR codes), credentials, and the demo's sign-in line."""

from app.core.config import Settings
from app.core.storage import build_storage
from app.services.certificates import issuing as certificates
from app.services.certificates import open_badges as credentials


async def test_only_the_port_changed_moves_every_handed_out_address(monkeypatch, tmp_path):
    monkeypatch.setenv("HOCSO_PORT", "8123")
    monkeypatch.delenv("HOCSO_PUBLIC_BASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path, _env_file=None)
    media = await build_storage(settings).presigned_get("courses/ky-nang-so/video.mp4", ttl_s=60)
    assert media.startswith("http://127.0.0.1:8123/media/courses/ky-nang-so/video.mp4?")
    assert certificates.verify_url(settings, "HS-2026-000001") == "http://127.0.0.1:8123/verify/HS-2026-000001"
    assert certificates.verify_api_url(settings, "X").startswith("http://127.0.0.1:8123/api/v1/")
    assert credentials.issuer_id(settings) == "http://127.0.0.1:8123/api/v1/issuer"
