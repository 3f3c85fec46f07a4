"""Package imports end to end in the service layer: validation, unsafe archives, media, atomicity, memory."""

import io
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from app.core.storage import build_storage
from app.models.course import Asset, Course, CourseVersion, Lesson
from app.models.quiz import Choice, Question, Quiz
from app.services.content.packages.media import MediaProblem, read_webm_duration
from tests.factories.packages import (
    SAMPLE_ZIP,
    import_package,
    package_zip,
    sample_files,
    sample_maker,
    sample_manifest,
    webm,
    write_zip,
)


async def count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def failed(db, settings, path) -> list[dict]:
    job = await import_package(db, build_storage(settings), path)
    assert job.status == "failed"
    assert job.course_id is None and job.version_id is None
    return job.errors


def edit(old: str, new: str) -> str:
    manifest = sample_manifest()
    assert old in manifest
    return manifest.replace(old, new, 1)


def line_of(manifest: str, text: str) -> int:
    return next(n for n, line in enumerate(manifest.splitlines(), 1) if text in line)


# --- a good package ---

async def test_moodles_gift_examples_import_as_a_course_quiz(db, settings, session, tmp_path):
    examples = (Path(__file__).parents[2] / "fixtures" / "moodle" / "examples.gift").read_bytes()
    bank = examples + "\n\n$CATEGORY: An toàn\nMô tả cuối.".encode()
    job = await import_package(db, build_storage(settings), package_zip(
        tmp_path / "p.zip", extra={"quizzes/cuoi-khoa.gift": bank}))
    assert job.status == "succeeded", job.errors
    questions = (await session.execute(select(Question).order_by(Question.position))).scalars().all()
    assert len(questions) == 44 and {q.kind for q in questions} == {
        "single", "multiple", "true_false", "short_answer", "numerical", "matching", "description"}
    assert questions[-1].category == "An toàn" and questions[0].category is None
    numerical = next(q for q in questions if q.kind == "numerical")
    [choice] = (await session.execute(select(Choice).where(Choice.question_id == numerical.id))).scalars().all()
    assert (choice.value, choice.tolerance, choice.weight) == (1822, 1, 100)

async def test_sample_becomes_rows_assets_and_questions(db, settings, session):
    storage = build_storage(settings)
    job = await import_package(db, storage, SAMPLE_ZIP)
    assert job.status == "succeeded" and job.percent == 100 and job.step == "publishing"
    version = await session.get(CourseVersion, job.version_id)
    assert (version.version, version.status, version.title) == (1, "draft", "Kỹ năng số cơ bản")
    assert version.search_text.startswith("ky nang so co ban")
    assert version.audiences == ["citizen", "official"] and version.video_coverage == 0.9
    lessons = (await session.execute(select(Lesson))).scalars().all()
    video = next(lesson for lesson in lessons if lesson.kind == "video")
    assert video.duration_s == 4.0 and video.asset_id is not None
    assets = (await session.execute(select(Asset))).scalars().all()
    assert {a.path for a in assets} == {"media/gioi-thieu.mp4", "docs/so-tay-ky-nang-so.pdf"}
    for asset in assets:
        assert asset.storage_key.startswith(f"courses/{job.course_id}/v1-")
        assert asset.storage_key.endswith(asset.path)
        assert (await storage.head(asset.storage_key)).size == asset.size
    quiz = (await session.execute(select(Quiz))).scalar_one()
    assert (quiz.pass_score, quiz.max_attempts, quiz.time_limit_s, quiz.draw) == (80, 3, 1200, 4)
    assert await count(session, Question) == 6 and await count(session, Choice) == 15
    assert await storage.head(job.source_key) is None  # the upload is removed once imported


async def test_a_package_inside_one_folder_and_os_litter_are_accepted(db, settings, tmp_path):
    path = package_zip(tmp_path / "folder.zip", folder="ky-nang-so-co-ban/",
                       extra={"__MACOSX/._course.yaml": b"\0", ".DS_Store": b"\0"})
    job = await import_package(db, build_storage(settings), path)
    assert job.status == "succeeded", job.errors


async def test_webm_videos_get_their_duration(db, settings, session, tmp_path):
    manifest = edit("video: media/gioi-thieu.mp4", "video: media/gioi-thieu.webm")
    path = package_zip(tmp_path / "webm.zip", manifest=manifest, drop=("media/gioi-thieu.mp4",),
                       extra={"media/gioi-thieu.webm": webm(2500)})
    job = await import_package(db, build_storage(settings), path)
    assert job.status == "succeeded", job.errors
    video = (await session.execute(select(Lesson).where(Lesson.kind == "video"))).scalar_one()
    assert video.duration_s == 2.5


def test_webm_reader_reads_duration_and_refuses_other_files():
    assert read_webm_duration(io.BytesIO(webm(90_000))) == 90.0
    assert read_webm_duration(io.BytesIO(webm(1500, scale=500_000))) == 0.75
    with pytest.raises(MediaProblem):
        read_webm_duration(io.BytesIO(b"\x00\x00\x00\x18ftypisom"))


# --- every validation rule, each with file and line ---

@pytest.mark.parametrize(("old", "new", "message", "where"), [
    ("language: vi", "language: vi\ncolour: red", "manifest_unknown_field", "colour: red"),
    ("estimated_minutes: 30", "estimated_minutes: nhiều", "manifest_expected", "estimated_minutes"),
    ("certificate: true", "certificate: 1", "manifest_expected", "certificate"),
    ("format: hocso-course/1", "format: hocso-course/2", "manifest_format", "format:"),
    ("slug: ky-nang-so-co-ban", "slug: Kỹ Năng", "manifest_pattern", "slug:"),
    ("audiences: [citizen, official]", "audiences: [citizen, tourist]", "manifest_audience", "audiences"),
    ("key: so-tay,", "key: gioi-thieu,", "manifest_duplicate_key", "key: gioi-thieu, title: Sổ"),
    ("pass_score: 80", "pass_score: 150", "manifest_range", "pass_score"),
    ("draw: 4", "draw: 40", "quiz_draw_too_large", "draw: 40"),
    ("document: docs/so-tay-ky-nang-so.pdf}", "document: docs/so-tay-ky-nang-so.pdf, text: x}",
     "manifest_lesson_kind", "key: so-tay"),
    ("video: media/gioi-thieu.mp4", "video: ../gioi-thieu.mp4", "manifest_bad_path", "../gioi-thieu.mp4"),
    ("completion: {video_coverage: 0.9}", "completion: {video_coverage: 2}", "manifest_range", "completion"),
])
async def test_manifest_problems_name_the_line(db, settings, tmp_path, old, new, message, where):
    manifest = edit(old, new)
    errors = await failed(db, settings, package_zip(tmp_path / "p.zip", manifest=manifest))
    assert {"file": "course.yaml", "line": line_of(manifest, where), "message": message} in [
        {k: e.get(k) for k in ("file", "line", "message")} for e in errors], errors


async def test_missing_required_fields_are_reported(db, settings, tmp_path):
    manifest = edit("title: Kỹ năng số cơ bản\n", "")
    [error] = await failed(db, settings, package_zip(tmp_path / "p.zip", manifest=manifest))
    assert error["message"] == "manifest_missing_field" and error["params"]["name"] == "title"


async def test_yaml_syntax_errors_carry_their_line(db, settings, tmp_path):
    manifest = edit("language: vi", "language: [vi")
    [error] = await failed(db, settings, package_zip(tmp_path / "p.zip", manifest=manifest))
    assert error["message"] == "yaml_unclosed_bracket" and error["line"] == line_of(manifest, "language: [vi")
    assert error["column"] == len("language: [") and error["hint"] == "yaml_unclosed_bracket_hint"
    assert "expected" in error["detail"]  # PyYAML's own words, kept only as the detail


@pytest.mark.parametrize(("old", "new", "drop", "extra", "message", "file"), [
    ("", "", ("media/gioi-thieu.mp4",), {}, "file_missing", "course.yaml"),
    ("", "", (), {"notes.txt": b"x"}, "file_unreferenced", "notes.txt"),
    ("video: media/gioi-thieu.mp4", "video: media/gioi-thieu.avi", ("media/gioi-thieu.mp4",),
     {"media/gioi-thieu.avi": b"RIFF"}, "media_type_unsupported", "course.yaml"),
    ("", "", (), {"media/gioi-thieu.mp4": b"not a video at all"}, "media_not_mp4", "media/gioi-thieu.mp4"),
    ("", "", (), {"docs/so-tay-ky-nang-so.pdf": b"<html>"}, "media_not_pdf", "docs/so-tay-ky-nang-so.pdf"),
    ("", "", (), {"quizzes/cuoi-khoa.gift": "::A:: Câu {=a ~b".encode()}, "gift_unclosed_brace",
     "quizzes/cuoi-khoa.gift"),
    ("draw: 4", "draw: 1", (), {"quizzes/cuoi-khoa.gift": "Tự luận {}\n\nMô tả\n\nTự luận nữa {}".encode()},
     "bank_nothing_graded", "quizzes/cuoi-khoa.gift"),
    ("draw: 4", "draw: 2", (), {"quizzes/cuoi-khoa.gift": "Một {}\n\nHai {}\n\nBa {T}".encode()},
     "bank_draw_essays", "course.yaml"),
])
async def test_file_problems(db, settings, tmp_path, old, new, drop, extra, message, file):
    manifest = edit(old, new) if old else None
    errors = await failed(db, settings, package_zip(tmp_path / "p.zip", manifest=manifest, drop=drop,
                                                    extra=extra))
    assert [(e["message"], e["file"]) for e in errors] == [(message, file)]


async def test_all_problems_are_reported_at_once_and_nothing_is_written(db, settings, session, tmp_path):
    manifest = edit("pass_score: 80", "pass_score: -1")
    manifest = manifest.replace("estimated_minutes: 30", "estimated_minutes: x")
    path = package_zip(tmp_path / "p.zip", manifest=manifest, drop=("docs/so-tay-ky-nang-so.pdf",),
                       extra={"stray.bin": b"x"})
    errors = await failed(db, settings, path)
    assert sorted(e["message"] for e in errors) == ["file_missing", "file_unreferenced", "manifest_expected",
                                                     "manifest_range"]
    assert await count(session, Course) == 0 and await count(session, Asset) == 0
    assert not (settings.media_dir / "courses").exists()


# --- unsafe archives: refused before anything is extracted ---

def symlink_zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in sample_files().items():
            archive.writestr(name, data)
        link = zipfile.ZipInfo("docs/link.pdf")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    return path


def not_a_zip(path):
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return path


def bomb_zip(path):
    files = sample_files() | {"media/zeros.bin": b"\0" * (4 * 1024 * 1024)}
    return write_zip(path, files)


def with_entry(name):
    return lambda path: write_zip(path, {**sample_files(), name: b"x"})


@pytest.mark.parametrize(("build", "message", "file"), [
    (with_entry("../evil.txt"), "zip_unsafe_path", "../evil.txt"),
    (with_entry("/etc/cron.d/x"), "zip_unsafe_path", "/etc/cron.d/x"),
    (with_entry("C:/Windows/x.txt"), "zip_unsafe_path", "C:/Windows/x.txt"),
    (with_entry("docs\\..\\x.txt"), "zip_unsafe_path", "docs\\..\\x.txt"),
    (symlink_zip, "zip_symlink", "docs/link.pdf"),
    (bomb_zip, "zip_ratio", "media/zeros.bin"),
    (not_a_zip, "zip_unreadable", "(zip)"),
])
async def test_unsafe_archives_are_refused(db, settings, session, tmp_path, build, message, file):
    errors = await failed(db, settings, build(tmp_path / "bad.zip"))
    assert (message, file) in [(e["message"], e["file"]) for e in errors]
    assert await count(session, Course) == 0
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize(("limit", "message"), [
    ({"package_max_entries": 3}, "zip_too_many_entries"),
    ({"package_max_uncompressed_bytes": 10_000}, "zip_too_large"),
])
async def test_archive_limits_come_from_settings(db, settings, tmp_path, limit, message):
    db.settings = settings.model_copy(update=limit)
    errors = await failed(db, db.settings, SAMPLE_ZIP)
    assert [e["message"] for e in errors] == [message]


async def test_a_zip_without_course_yaml_is_refused(db, settings, tmp_path):
    path = write_zip(tmp_path / "p.zip", {"a/course.yaml": b"x", "b/readme.txt": b"y"})
    assert [e["message"] for e in await failed(db, settings, path)] == ["manifest_missing"]


# --- atomicity ---

class BreaksWhileStoring:
    """Real storage that fails in the middle of the second stored file, like a full disk or a dropped link."""

    def __init__(self, inner) -> None:
        self.inner, self.puts = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def put_stream(self, key, chunks, content_type):
        self.puts += 1
        if self.puts < 2:
            return await self.inner.put_stream(key, chunks, content_type)

        async def broken():
            async for chunk in chunks:
                yield chunk[:10]
                raise OSError("No space left on device")
        return await self.inner.put_stream(key, broken(), content_type)


async def test_a_storage_failure_mid_import_leaves_no_rows_and_no_files(db, settings, session):
    storage = BreaksWhileStoring(build_storage(settings))
    with pytest.raises(OSError, match="No space left"):
        await import_package(db, storage, SAMPLE_ZIP)
    assert await count(session, Course) == 0 and await count(session, CourseVersion) == 0
    stored = [p for p in (settings.media_dir / "courses").rglob("*") if p.is_file()]
    assert stored == [] and storage.puts == 2
    from app.models.course import ImportJob

    job = (await session.execute(select(ImportJob))).scalar_one()
    assert job.status == "failed" and job.errors[0]["message"] == "import_internal_error"
    assert not list((settings.data_dir / "tmp").iterdir())  # the work directory is gone too


# --- memory ---

async def test_a_200_mb_video_imports_through_the_api_with_flat_memory(client, db, session, settings, keyring,
                                                                        tmp_path):
    """Peak RSS growth is sampled with psutil in a thread every 5 ms. RSS (not tracemalloc) because it sees
    every byte the process holds — Python objects, zlib and hashlib buffers, anyio file buffers — and
    tracemalloc would both miss native allocations and slow a 200 MB copy loop several times over."""
    from app.models.identity import Role
    from app.services import jobs
    from tests.factories import auth, make_user, token_for

    idr = next(sample for sample, sync in sample_maker.sample_frames(1) if sync)
    frames = [(idr, True)] * (200 * 1024 * 1024 // len(idr) + 1)
    video = tmp_path / "dai.mp4"
    duration = sample_maker.write_mp4(video, frames)
    assert video.stat().st_size >= 200 * 1024 * 1024
    package = tmp_path / "big.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as archive:
        for name, data in sample_files().items():
            if name != "media/gioi-thieu.mp4":
                archive.writestr(name, data)
        archive.write(video, "media/gioi-thieu.mp4")
    del frames
    admin = await make_user(session, role=Role.content_admin)
    headers = auth(token_for(keyring, settings, admin))

    process, peak, stop = psutil.Process(), [0], threading.Event()
    baseline = process.memory_info().rss

    def sample_rss() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    try:
        with package.open("rb") as f:
            r = await client.post("/api/v1/admin/course-packages",
                                  files={"file": ("big.zip", f, "application/zip")}, headers=headers)
        assert r.status_code == 202, r.text
        await jobs.run_pending(db)
    finally:
        stop.set()
        sampler.join()
    growth_mb = (peak[0] - baseline) / 1024 / 1024
    job = (await client.get(r.headers["location"], headers=headers)).json()
    assert job["status"] == "succeeded", job["errors"]
    video_lesson = (await session.execute(select(Lesson).where(Lesson.kind == "video"))).scalar_one()
    assert video_lesson.duration_s == pytest.approx(duration)
    print(f"200 MB import: peak RSS growth {growth_mb:.1f} MB")
    assert growth_mb < 100, f"peak RSS grew by {growth_mb:.0f} MB"
