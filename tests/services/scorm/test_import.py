"""SCORM zips through the package importer: courses with one lesson per SCO, import options, all-or-nothing,
other formats named, and SCORM folders inside a HocSo course."""

from sqlalchemy import func, select

from app.core.storage import build_storage
from app.models.course import Asset, Course, CourseVersion, ImportOptions, Lesson, Module
from app.models.scorm import ScormSco
from app.services.content.packages.importer import import_file
from tests.factories.packages import package_zip, sample_manifest, write_zip
from tests.factories.scorm_packages import content_files, manifest_12, manifest_2004, scorm_files, scorm_zip


async def run(db, settings, path, **options):
    return await import_file(db, build_storage(settings), path, publish=True,
                             options=ImportOptions(**options) if options else None)


async def outline(session, version_id):
    modules = (await session.execute(select(Module).where(Module.version_id == version_id)
                                     .order_by(Module.position))).scalars().all()
    result = []
    for module in modules:
        lessons = (await session.execute(select(Lesson).where(Lesson.module_id == module.id)
                                         .order_by(Lesson.position))).scalars().all()
        result.append((module.title, [(lesson.key, lesson.kind, lesson.title) for lesson in lessons]))
    return result


async def test_scorm_12_golf_imports_as_a_course_with_one_lesson_per_sco(db, settings, session, tmp_path):
    job = await run(db, settings, scorm_zip(tmp_path / "golf12.zip", manifest_12()))
    assert job.status == "succeeded", job.errors
    version = await session.get(CourseVersion, job.version_id)
    course = await session.get(Course, job.course_id)
    assert (course.slug, version.title, version.audiences, version.status) == (
        "golf-explained", "Golf Explained", ["citizen", "official"], "published")
    assert await outline(session, version.id) == [
        ("Golf Explained › Golf Basics", [("playing_item", "scorm", "Playing the Game"),
                                          ("etiquette_item", "scorm", "Etiquette")]),
        ("Golf Explained", [("handicap_item", "scorm", "Handicapping")])]
    scos = (await session.execute(select(ScormSco).where(ScormSco.version_id == version.id)
                                  .order_by(ScormSco.identifier))).scalars().all()
    playing = next(s for s in scos if s.identifier == "playing_item")
    assert (playing.scorm_version, playing.launch_path, playing.launch_query, playing.mastery_score,
            playing.launch_data, playing.completion_rule) == (
        "1.2", "Playing/index.html", "?lang=vi", 80, "golf-playing", "completed_or_passed")
    assert playing.content_prefix.startswith(f"courses/{course.id}/v1-") and playing.content_prefix.endswith("/")
    stored = (await session.execute(select(Asset.path).where(Asset.version_id == version.id))).scalars().all()
    assert set(stored) == set(scorm_files(manifest_12()))  # every file, images and scripts included
    assert job.notices == []


async def test_scorm_2004_in_a_folder_lists_ignored_sequencing(db, settings, session, tmp_path):
    job = await run(db, settings, scorm_zip(tmp_path / "golf2004.zip", manifest_2004("3rd"), folder="golf/"),
                    slug="golf-2004", audiences=["official"], certificate=True, estimated_minutes=25)
    assert job.status == "succeeded", job.errors
    version = await session.get(CourseVersion, job.version_id)
    assert (version.audiences, version.certificate, version.estimated_minutes) == (["official"], True, 25)
    assert (await session.get(Course, job.course_id)).slug == "golf-2004"
    assert [key for _, lessons in await outline(session, version.id) for key, _, _ in lessons] == [
        "playing_item", "etiquette_item", "handicap_item"]
    sco = (await session.execute(select(ScormSco).where(ScormSco.version_id == version.id).limit(1))).scalar_one()
    assert (sco.scorm_version, sco.scaled_passing_score, sco.completion_rule) == ("2004-3", 0.8,
                                                                                  "completed_and_passed")
    ignored = [(n["file"], n["line"], n["params"]["what"]) for n in job.notices]
    assert ("imsmanifest.xml", 16, "<imsss:deliveryControls>") in ignored


async def test_slug_comes_from_the_vietnamese_title_folded(db, settings, session, tmp_path):
    manifest = manifest_12().replace("<title>Golf Explained</title>", "<title>Đánh golf: Kỹ năng số</title>")
    job = await run(db, settings, scorm_zip(tmp_path / "vi.zip", manifest))
    assert job.status == "succeeded", job.errors
    assert (await session.get(Course, job.course_id)).slug == "danh-golf-ky-nang-so"


async def test_a_broken_manifest_writes_nothing_and_lists_every_problem(db, settings, session, tmp_path):
    manifest = manifest_12().replace('identifierref="Etiquette_res"', 'identifierref="nowhere"')
    job = await run(db, settings, scorm_zip(tmp_path / "bad.zip", manifest, drop=("Playing/index.html",)))
    assert job.status == "failed"
    assert sorted((e["message"], e["file"]) for e in job.errors) == [
        ("scorm_missing_file", "imsmanifest.xml"), ("scorm_missing_file", "imsmanifest.xml"),
        ("scorm_missing_resource", "imsmanifest.xml")]
    assert all(e["line"] for e in job.errors)
    assert await session.scalar(select(func.count()).select_from(Course)) == 0
    assert await session.scalar(select(func.count()).select_from(ScormSco)) == 0


async def test_cmi5_and_aicc_are_named_and_unknown_zips_name_both_formats(db, settings, tmp_path):
    cmi5 = write_zip(tmp_path / "cmi5.zip", {"cmi5.xml": b"<courseStructure/>", "index.html": b"x"})
    aicc = write_zip(tmp_path / "aicc.zip", {"course.crs": b"[Course]", "course.au": b"x"})
    other = write_zip(tmp_path / "other.zip", {"index.html": b"x"})
    assert [e["message"] for e in (await run(db, settings, cmi5)).errors] == ["package_cmi5"]
    assert [e["message"] for e in (await run(db, settings, aicc)).errors] == ["package_aicc"]
    errors = (await run(db, settings, other)).errors
    assert [e["message"] for e in errors] == ["manifest_missing"]


def test_the_neither_format_message_names_both():
    from app.core.i18n import set_language, t
    set_language("en")
    try:
        text = t("manifest_missing")
    finally:
        set_language("vi")
    assert "course.yaml" in text and "imsmanifest.xml" in text and "SCORM" in text


async def test_a_common_cartridge_is_named(db, settings, tmp_path):
    cc = write_zip(tmp_path / "cc.zip", {"imsmanifest.xml": b'<?xml version="1.0"?>\n<manifest '
                                         b'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"/>'})
    assert [e["message"] for e in (await run(db, settings, cc)).errors] == ["scorm_common_cartridge"]


async def test_course_yaml_may_name_a_scorm_folder_as_a_lesson(db, settings, session, tmp_path):
    manifest = sample_manifest().replace("  - title: Kiểm tra cuối khóa\n", """  - title: Golf
    lessons:
      - {key: golf, title: Golf cơ bản, scorm: modules/golf/}
  - title: Kiểm tra cuối khóa
""", 1)
    extra = {f"modules/golf/{name}": data for name, data in scorm_files(manifest_2004("3rd")).items()}
    job = await run(db, settings, package_zip(tmp_path / "mixed.zip", manifest=manifest, extra=extra))
    assert job.status == "succeeded", job.errors
    lessons = [lesson for _, ls in await outline(session, job.version_id) for lesson in ls]
    golf = [(key, title) for key, kind, title in lessons if kind == "scorm"]
    assert golf == [("golf--playing_item", "Golf cơ bản: Playing the Game"),
                    ("golf--etiquette_item", "Golf cơ bản: Etiquette"),
                    ("golf--handicap_item", "Golf cơ bản: Handicapping")]
    assert {kind for _, kind, _ in lessons} == {"video", "document", "text", "quiz", "scorm"}
    sco = (await session.execute(select(ScormSco).where(ScormSco.version_id == job.version_id).limit(1))
           ).scalar_one()
    assert sco.content_prefix.endswith("/modules/golf/") and sco.launch_path.endswith("/index.html")


async def test_a_scorm_folder_without_manifest_is_refused(db, settings, tmp_path):
    manifest = sample_manifest().replace("  - title: Kiểm tra cuối khóa\n", """  - title: Golf
    lessons:
      - {key: golf, title: Golf, scorm: modules/golf/}
  - title: Kiểm tra cuối khóa
""", 1)
    extra = {f"modules/golf/{name}": data for name, data in content_files().items()}
    job = await run(db, settings, package_zip(tmp_path / "mixed.zip", manifest=manifest, extra=extra))
    assert job.status == "failed"
    assert [e["message"] for e in job.errors] == ["scorm_folder_missing"]


def golf_lesson(target: str) -> str:
    return sample_manifest().replace("  - title: Kiểm tra cuối khóa\n", f"""  - title: Golf
    lessons:
      - {{key: golf, title: Golf cơ bản, scorm: {target}}}
  - title: Kiểm tra cuối khóa
""", 1)


async def test_course_yaml_may_name_a_scorm_zip_inside_the_package(db, settings, session, tmp_path):
    inner = scorm_zip(tmp_path / "golf.zip", manifest_12(), folder="golf-12/").read_bytes()  # one top folder
    job = await run(db, settings, package_zip(tmp_path / "mixed.zip", manifest=golf_lesson("modules/golf.zip"),
                                              extra={"modules/golf.zip": inner}))
    assert job.status == "succeeded", job.errors
    lessons = [(key, kind) for _, ls in await outline(session, job.version_id) for key, kind, _ in ls]
    assert [key for key, kind in lessons if kind == "scorm"] == [
        "golf--playing_item", "golf--etiquette_item", "golf--handicap_item"]
    sco = (await session.execute(select(ScormSco).where(ScormSco.version_id == job.version_id).limit(1))
           ).scalar_one()
    assert sco.content_prefix.endswith("/modules/golf/golf-12/") and sco.launch_path == "Playing/index.html"
    keys = set((await session.execute(select(Asset.storage_key).where(Asset.version_id == job.version_id)))
               .scalars())
    assert not any(key.endswith(".zip") for key in keys)  # its files are stored, not the zip


async def test_a_scorm_lesson_of_course_yaml_may_choose_its_completion_rule(db, settings, session, tmp_path):
    files = {f"modules/golf/{name}": data for name, data in scorm_files(manifest_2004("3rd")).items()}
    manifest = golf_lesson("modules/golf/").replace("scorm: modules/golf/}", "scorm: modules/golf/, "
                                                    "completion: completed_or_passed}")
    job = await run(db, settings, package_zip(tmp_path / "rule.zip", manifest=manifest, extra=files))
    assert job.status == "succeeded", job.errors
    rules = set((await session.execute(select(ScormSco.completion_rule).where(
        ScormSco.version_id == job.version_id))).scalars())
    assert rules == {"completed_or_passed"}  # not the 2004 default completed_and_passed
    bad = manifest.replace("completion: completed_or_passed", "completion: finished")
    job = await run(db, settings, package_zip(tmp_path / "bad.zip", manifest=bad, extra=files))
    assert [(e["message"], e["file"], bool(e.get("line"))) for e in job.errors] == [
        ("manifest_pattern", "course.yaml", True)]


async def test_only_scorm_lessons_take_a_completion_rule(db, settings, tmp_path):
    manifest = sample_manifest()
    first_lesson = manifest.index("title:", manifest.index("lessons:"))
    manifest = manifest[:first_lesson] + "completion: passed, " + manifest[first_lesson:]
    job = await run(db, settings, package_zip(tmp_path / "x.zip", manifest=manifest))
    assert [e["message"] for e in job.errors] == ["manifest_completion_not_scorm"]


async def test_a_nested_zip_is_checked_like_a_package_and_its_bad_entry_named(db, settings, tmp_path):
    inner = write_zip(tmp_path / "evil.zip", {**scorm_files(manifest_12()), "../../escape.txt": b"x"}).read_bytes()
    job = await run(db, settings, package_zip(tmp_path / "mixed.zip", manifest=golf_lesson("modules/golf.zip"),
                                              extra={"modules/golf.zip": inner}))
    assert job.status == "failed"
    assert [(e["message"], e["file"]) for e in job.errors] == [
        ("zip_unsafe_path", "modules/golf.zip › ../../escape.txt")]
    assert not (settings.data_dir / "escape.txt").exists()


async def test_a_nested_zip_that_is_not_scorm_is_refused(db, settings, tmp_path):
    inner = package_zip(tmp_path / "hocso.zip").read_bytes()
    job = await run(db, settings, package_zip(tmp_path / "mixed.zip", manifest=golf_lesson("modules/golf.zip"),
                                              extra={"modules/golf.zip": inner}))
    assert [(e["message"], e["file"]) for e in job.errors] == [("scorm_zip_not_scorm", "modules/golf.zip")]
