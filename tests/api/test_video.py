"""Video lessons for weak networks through the API: renditions made by a real ffmpeg from a generated video,
the master playlist read with the `m3u8` library, every segment fetched through its signed URL on both
storages, and refused to anyone else."""

from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import m3u8
import pytest
from sqlalchemy import select

from app.core.s3 import S3Storage
from app.core.storage import build_storage
from app.models.base import utcnow
from app.models.identity import Role
from app.models.learning import Enrollment
from app.models.video import VideoEncoding
from app.services import jobs
from app.services.video.ladder import LADDER
from app.services.video.transcode import transcode
from tests import s3_server
from tests.factories import auth, make_user, token_for
from tests.factories.packages import import_package
from tests.factories.videos import video_package, videos  # noqa: F401  (fixture)

s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings  # fixtures
NOMINAL = {rung.name: (rung.video_kbps + rung.audio_kbps) * 1000 for rung in LADDER}
CAPTIONS = {"vi": "WEBVTT\n\n00:00.000 --> 00:03.000\nXin chào các bạn!\n".encode(),
            "en": b"WEBVTT\n\n00:00.000 --> 00:03.000\nHello everyone!\n"}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"video_renditions": True})


async def enrolled_learner(session, job):
    learner = await make_user(session)
    session.add(Enrollment(user_id=learner.id, course_id=job.course_id, version_id=job.version_id))
    await session.flush()
    return learner


async def video_lesson(client, headers) -> dict:
    outline = (await client.get("/api/v1/courses/ky-nang-so-co-ban")).json()
    lesson_id = next(lsn["id"] for module in outline["modules"] for lsn in module["lessons"]
                     if lsn["kind"] == "video")
    answer = await client.get(f"/api/v1/lessons/{lesson_id}", headers=headers)
    assert answer.status_code == 200
    return answer.json()


def local(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


async def import_status(client, session, keyring, settings, job) -> dict:
    admin = await make_user(session, role=Role.content_admin)
    r = await client.get(f"/api/v1/admin/imports/{job.id}", headers=auth(token_for(keyring, settings, admin)))
    assert r.status_code == 200
    return r.json()


async def test_a_1080p_video_gets_240p_360p_720p_and_a_small_download_for_the_enrolled_learner_only(
        client, db, session, keyring, settings, videos, tmp_path):  # noqa: F811
    storage = build_storage(settings)
    package = video_package(tmp_path / "p.zip", videos["1080p"], captions=CAPTIONS)
    job = await import_package(db, storage, package, publish=True)
    assert job.status == "succeeded", job.errors
    learner = await enrolled_learner(session, job)
    headers = auth(token_for(keyring, settings, learner))
    before = await video_lesson(client, headers)
    assert before["url"] and before["hls_url"] is None and before["download_url"] is None  # the original meanwhile
    assert [c["language"] for c in before["captions"]] == ["en", "vi"]  # plain WebVTT files at once
    for caption in before["captions"]:
        got = await client.get(local(caption["url"]))
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/vtt")
        assert got.content == CAPTIONS[caption["language"]]
    [queued] = (await import_status(client, session, keyring, settings, job))["videos"]
    assert queued["path"] == "media/gioi-thieu.mp4" and queued["status"] == "queued"

    assert await jobs.run_pending(db) >= 1
    [ready] = (await import_status(client, session, keyring, settings, job))["videos"]
    assert ready["status"] == "ready" and ready["renditions"] == ["240p", "360p", "720p"], ready

    lesson = await video_lesson(client, headers)
    assert lesson["url"] and lesson["duration_s"] == before["duration_s"]
    master_answer = await client.get(local(lesson["hls_url"]))
    assert master_answer.status_code == 200
    assert master_answer.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    master = m3u8.loads(master_answer.text)
    assert master.is_variant
    subtitles = {m.language: m for m in master.media if m.type == "SUBTITLES"}
    assert sorted(subtitles) == ["en", "vi"] and subtitles["vi"].name == "Tiếng Việt"
    assert all(p.stream_info.subtitles == "subs" for p in master.playlists)
    for language, track in subtitles.items():  # each a one-segment subtitle playlist over the WebVTT file
        playlist = m3u8.loads((await client.get(local(track.uri))).text)
        [segment] = playlist.segments
        assert segment.duration == pytest.approx(lesson["duration_s"], abs=0.1)
        assert (await client.get(local(segment.uri))).content == CAPTIONS[language]
    variants = [p.stream_info for p in master.playlists]
    assert [v.resolution for v in variants] == [(426, 240), (640, 360), (1280, 720)]
    averages = [v.average_bandwidth for v in variants]
    assert averages == sorted(averages) and len(set(averages)) == 3
    for info, name in zip(variants, ["240p", "360p", "720p"], strict=True):
        # Measured from the segments: the average near the ladder's rate, the peak (BANDWIDTH) above it.
        assert 0.3 * NOMINAL[name] < info.average_bandwidth <= 1.5 * NOMINAL[name], (name, info.average_bandwidth)
        assert info.bandwidth >= info.average_bandwidth
        assert info.codecs.startswith("avc1.4d40") and info.codecs.endswith("mp4a.40.2")

    for playlist in master.playlists:
        answer = await client.get(local(playlist.uri))
        assert answer.status_code == 200
        media = m3u8.loads(answer.text)
        assert media.is_endlist and len(media.segments) == 2
        assert sum(s.duration for s in media.segments) == pytest.approx(lesson["duration_s"], abs=0.2)
        init = await client.get(local(media.segment_map[0].uri))
        assert init.status_code == 200 and init.content[4:8] == b"ftyp"  # the fMP4 initialisation segment
        for segment in media.segments:  # every segment, through its signed URL
            got = await client.get(local(segment.uri))
            assert got.status_code == 200 and got.content[4:8] == b"styp"  # an fMP4 media segment
            tampered = segment.uri.replace("sig=", "sig=0")
            assert (await client.get(local(tampered))).status_code == 403

    ranged = await client.get(local(lesson["download_url"]), headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100 and ranged.content[4:8] == b"ftyp"
    total = int(ranged.headers["content-range"].rsplit("/", 1)[1])
    assert total == lesson["download_size"] < videos["1080p"].stat().st_size / 3


async def test_playlists_are_refused_to_anyone_but_the_enrolled_learner(client, db, session, keyring,
                                                                        settings, videos, tmp_path):  # noqa: F811
    storage = build_storage(settings)
    job = await import_package(db, storage, video_package(tmp_path / "p.zip", videos["480p"]), publish=True)
    learner = await enrolled_learner(session, job)
    await jobs.run_pending(db)
    lesson = await video_lesson(client, auth(token_for(keyring, settings, learner)))
    url = urlparse(lesson["hls_url"])
    token = parse_qs(url.query)["access"][0]
    assert (await client.get(url.path)).status_code == 422  # no token at all
    other = await make_user(session)
    expires, _, sig = token.split("-")
    forged = f"{expires}-{other.id.hex}-{sig}"  # another learner's id under this learner's signature
    assert (await client.get(url.path, params={"access": forged})).status_code == 403
    expired = f"1-{learner.id.hex}-{sig}"
    assert (await client.get(url.path, params={"access": expired})).status_code == 403
    rendition = url.path.replace("master.m3u8", "240p.m3u8")
    assert (await client.get(rendition, params={"access": forged})).status_code == 403
    assert (await client.get(local(lesson["hls_url"]))).status_code == 200
    first = await client.get(rendition, params={"access": token})
    assert first.status_code == 200  # now in this worker's playlist cache, which must not bypass the checks
    assert (await client.get(rendition, params={"access": token})).text == first.text
    enrollment = (await session.execute(select(Enrollment).where(Enrollment.user_id == learner.id))).scalar_one()
    enrollment.left_at = utcnow()  # a learner who left the course keeps the link but not the video
    await session.flush()
    assert (await client.get(local(lesson["hls_url"]))).status_code == 403
    assert (await client.get(rendition + "?" + urlencode({"access": token}))).status_code == 403


async def test_a_480p_source_gets_no_720p_and_plays_from_s3(app, client, db, session, keyring, s3_settings,
                                                            videos, tmp_path):  # noqa: F811
    storage = S3Storage(s3_settings)
    await storage.ensure_bucket()
    app.state.storage = storage
    package = video_package(tmp_path / "p.zip", videos["480p"], captions={"vi": CAPTIONS["vi"]})
    job = await import_package(db, storage, package, publish=True)
    assert job.status == "succeeded", job.errors
    encoding = (await session.execute(select(VideoEncoding))).scalar_one()
    await transcode(db, storage, encoding.id)  # as the job does, with this test's S3 storage
    await session.refresh(encoding)
    assert encoding.duration_s
    learner = await enrolled_learner(session, job)
    lesson = await video_lesson(client, auth(token_for(keyring, s3_settings, learner)))
    master = m3u8.loads((await client.get(local(lesson["hls_url"]))).text)
    assert [p.stream_info.resolution for p in master.playlists] == [(428, 240), (640, 360)]  # never upscaled
    # One short segment: the peak still bounds the average, which leaves the init segment out (RFC 8216).
    assert all(p.stream_info.bandwidth >= p.stream_info.average_bandwidth for p in master.playlists)
    async with httpx.AsyncClient() as http:
        for playlist in master.playlists:
            media = m3u8.loads((await client.get(local(playlist.uri))).text)
            assert (await http.get(media.segment_map[0].uri)).content[4:8] == b"ftyp"
            for segment in media.segments:
                assert segment.uri.startswith(s3_settings.s3_endpoint_url)
                # Signed for at least the video's length: a learner who pauses mid-way can still play on.
                expires = int(parse_qs(urlparse(segment.uri).query)["X-Amz-Expires"][0])
                assert expires >= encoding.duration_s
                got = await http.get(segment.uri)
                assert got.status_code == 200 and got.content[4:8] == b"styp"
                unsigned = segment.uri.split("?", 1)[0]
                assert (await http.get(unsigned)).status_code == 403
        ranged = await http.get(lesson["download_url"], headers={"Range": "bytes=0-99"})
        [track] = [m for m in master.media if m.type == "SUBTITLES"]
        [segment] = m3u8.loads((await client.get(local(track.uri))).text).segments
        assert segment.uri.startswith(s3_settings.s3_endpoint_url)
        assert (await http.get(segment.uri)).content == CAPTIONS["vi"]
        assert (await http.get(lesson["captions"][0]["url"])).content == CAPTIONS["vi"]
    assert ranged.status_code == 206 and ranged.content[4:8] == b"ftyp"
    assert lesson["download_size"] < videos["480p"].stat().st_size
