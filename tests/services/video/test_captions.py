"""WebVTT caption checks, and packages whose captions are refused with the file and line."""

from app.core.i18n import t
from app.core.storage import build_storage
from app.services.video.captions import check_webvtt
from tests.factories.packages import import_package, package_zip, sample_manifest

GOOD = """WEBVTT - Giới thiệu

NOTE lời thoại do biên tập viên gõ lại

1
00:00.000 --> 00:01.500 line:90%
Xin chào các bạn!

00:00:01.500 --> 00:00:03.900
<v Cô giáo>Hôm nay ta học về <b>mật khẩu</b>.
"""
VIDEO_LESSON = "{key: gioi-thieu, title: Giới thiệu khóa học, video: media/gioi-thieu.mp4, required: true}"


def problems(text: str, duration_s: float | None = 4.0) -> list[tuple[int | None, str]]:
    _, errors = check_webvtt(text.encode(), "media/a.vtt", duration_s)
    return [(e.get("line"), e["message"]) for e in errors]


def test_a_valid_file_gives_its_cues():
    cues, errors = check_webvtt(GOOD.encode("utf-8-sig"), "media/a.vtt", 4.0)
    assert errors == [] and [(c.line, c.start_s, c.end_s) for c in cues] == [(6, 0.0, 1.5), (9, 1.5, 3.9)]
    assert check_webvtt(GOOD.replace("\n", "\r\n").encode(), "a.vtt", 4.0)[1] == []


def test_each_problem_names_its_line():
    broken = GOOD.replace("00:00:01.500 --> 00:00:03.900", "00:00:01,500 --> 00:00:03.900")
    assert problems(broken) == [(9, "caption_timing")]
    assert problems(GOOD.replace("00:00:03.900", "00:00:01.000")) == [(9, "caption_end_before_start")]
    assert problems(GOOD.replace("00:00.000 --> 00:01.500", "00:02.000 --> 00:02.500")) == [(9, "caption_order")]
    assert problems(GOOD, duration_s=2.0) == [(9, "caption_outside_video")]
    assert problems(GOOD.replace("Xin chào", "Xin --> chào")) == [(7, "caption_arrow_in_text")]
    assert problems(GOOD.replace("1\n00:00.000 --> 00:01.500 line:90%\n", "1\n")) == [(5, "caption_no_timing")]
    assert problems("WEBVTT\n00:00.000 --> 00:01.000\nSát đầu\n") == [(2, "caption_header_end")]


def test_files_that_are_not_webvtt_are_refused_at_once():
    assert problems("1\n00:00:00,000 --> 00:00:01,000\nSRT, không phải WebVTT\n") == [(1, "caption_header")]
    assert problems("WEBVTTX\n") == [(1, "caption_header")]
    assert problems("WEBVTT\n\nNOTE chỉ có ghi chú\n") == [(None, "caption_no_cues")]
    _, errors = check_webvtt("WEBVTT\n\n00:00.000 --> 00:01.000\nXin chào\n".encode("utf-16"), "a.vtt", 4.0)
    assert [e["message"] for e in errors] == ["caption_not_utf8"]


def test_the_message_quotes_the_bad_timing_in_the_readers_language():
    _, [error] = check_webvtt(b"WEBVTT\n\n00:00:01,500 --> 00:00:03.900\nx\n", "a.vtt", 4.0)
    assert "00:00:01,500" in t(error["message"], **error.params)


async def test_a_package_with_a_broken_caption_fails_naming_the_file_and_line(db, settings, tmp_path):
    manifest = sample_manifest().replace(VIDEO_LESSON, VIDEO_LESSON[:-1]
                                         + ", captions: {vi: media/gioi-thieu.vi.vtt, en: media/gioi-thieu.en.vtt}}")
    broken = GOOD.replace("00:00:01.500 --> 00:00:03.900", "00:00:01.500 -> 00:00:03.900")
    zip_path = package_zip(tmp_path / "p.zip", manifest=manifest, extra={
        "media/gioi-thieu.vi.vtt": GOOD.encode(), "media/gioi-thieu.en.vtt": broken.encode()})
    job = await import_package(db, build_storage(settings), zip_path)
    assert job.status == "failed"
    assert job.errors == [{"file": "media/gioi-thieu.en.vtt", "line": 9, "message": "caption_no_timing"}]


async def test_captions_in_the_manifest_are_checked_with_their_lines(db, settings, tmp_path):
    manifest = sample_manifest().replace(VIDEO_LESSON, VIDEO_LESSON[:-1]
                                         + ", captions: {vi: media/thieu.vtt, Tiếng Việt: media/a.vtt, en: a.srt}}")
    manifest = manifest.replace("document: docs/so-tay-ky-nang-so.pdf}",
                                "document: docs/so-tay-ky-nang-so.pdf, captions: {vi: media/b.vtt}}")
    job = await import_package(db, build_storage(settings), package_zip(tmp_path / "p.zip", manifest=manifest))
    line = next(n for n, text in enumerate(manifest.splitlines(), 1) if "gioi-thieu.mp4" in text)
    found = {(e["file"], e.get("line"), e["message"]) for e in job.errors}
    assert found == {("course.yaml", line, "manifest_pattern"), ("course.yaml", line, "file_missing"),
                     ("course.yaml", line, "media_type_unsupported"),
                     ("course.yaml", line + 1, "manifest_captions_not_video")}, found
