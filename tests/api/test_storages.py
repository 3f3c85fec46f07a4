"""The paths that keep files, each run on both storages: local files served by the app, and S3 (the moto server
of tests/s3_server.py, which refuses wrongly signed and expired URLs as a real store does).

A package import stores its media, a learner's lesson links to the video, and a certificate's PDF is rendered on
first request and handed out as a signed link; each link is then followed the way a browser would.
"""

from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import select

from app.core.s3 import S3Storage
from app.models.course import Asset
from tests import s3_server
from tests.factories import auth, make_user, token_for
from tests.factories.certificates import NAME, issue_without_pdf, pdf_text
from tests.factories.packages import SAMPLE_ZIP, import_package

s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings  # fixtures


@pytest.fixture(params=["local", "s3"])
async def storage(request, app, settings):
    """The app's storage — local files (the test settings) or an S3 bucket of this test's own — with `links`,
    where its signed links point: the app's media route or the S3 endpoint."""
    links = f"{settings.public_base_url}/"
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_settings")
        app.state.storage, links = S3Storage(s3), f"{s3.s3_endpoint_url}/{s3.s3_bucket}/"
        await app.state.storage.ensure_bucket()
    app.state.storage.links = links
    return app.state.storage


async def follow(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    """A link as a browser follows it: local links are answered by the app, S3 links by the store."""
    if url.startswith("http://test/"):
        parsed = urlparse(url)
        return await client.get(f"{parsed.path}?{parsed.query}", headers=headers)
    async with httpx.AsyncClient() as http:
        return await http.get(url, headers=headers)


async def test_an_imported_package_stores_its_media_and_a_lesson_links_to_the_video(client, db, session, keyring,
                                                                                    settings, storage):
    job = await import_package(db, storage, SAMPLE_ZIP, publish=True)
    assert job.status == "succeeded", job.errors
    assets = (await session.execute(select(Asset).where(Asset.version_id == job.version_id))).scalars().all()
    assert len(assets) >= 2
    for asset in assets:
        assert (await storage.head(asset.storage_key)).size == asset.size
    assert await storage.head(job.source_key) is None  # the upload is removed once imported

    headers = auth(token_for(keyring, settings, await make_user(session)))
    r = await client.post("/api/v1/courses/ky-nang-so-co-ban/enrollments", headers=headers)
    assert r.status_code == 201, r.text
    outline = (await client.get("/api/v1/courses/ky-nang-so-co-ban")).json()
    [video] = [lsn["id"] for module in outline["modules"] for lsn in module["lessons"] if lsn["key"] == "gioi-thieu"]
    link = (await client.get(f"/api/v1/lessons/{video}", headers=headers)).json()["url"]
    assert link.startswith(storage.links)
    streamed = await follow(client, link, Range="bytes=0-99")
    assert streamed.status_code == 206 and len(streamed.content) == 100 and streamed.content[4:8] == b"ftyp"
    assert streamed.headers["content-type"] == "video/mp4"
    other = next(a.storage_key for a in assets if not a.storage_key.endswith(".mp4"))
    path = urlparse(link).path
    swapped = link.replace(path, path[:path.index("courses/")] + other)  # the same signature on another file
    assert swapped != link and (await follow(client, swapped)).status_code == 403


async def test_a_certificate_pdf_is_rendered_into_the_storage_and_handed_out_as_a_signed_link(client, session,
                                                                                             keyring, settings,
                                                                                             storage):
    issued = await issue_without_pdf(session, settings)
    r = await client.get(f"/api/v1/certificates/{issued.certificate.id}/pdf",
                         headers=auth(token_for(keyring, settings, issued.user)))
    assert r.status_code in (302, 303, 307) and r.headers["location"].startswith(storage.links)
    await session.refresh(issued.certificate)
    stored = await storage.head(issued.certificate.pdf_key)
    pdf = await follow(client, r.headers["location"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(pdf.content) == stored.size and NAME in pdf_text(pdf.content)
