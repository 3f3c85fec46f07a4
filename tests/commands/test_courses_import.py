"""`hocso courses import`: a bare SCORM zip with the operator's import options; a refused package's problems as
`file:line:column:` (the column where the parser gives one), the form editors and CI annotations read."""

import re

import anyio.to_thread
import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from app.cli import app as hocso
from app.models.course import Course, CourseVersion
from app.models.scorm import ScormSco
from tests.factories.packages import package_zip, sample_manifest
from tests.factories.scorm_packages import manifest_12, manifest_2004, scorm_zip


async def invoke(*args: str) -> Result:
    # asyncio.run inside the command needs a thread without a running event loop.
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, list(args)))


async def test_the_completion_option_sets_every_sco_rule(operator_env, committed_db, tmp_path):
    path = scorm_zip(tmp_path / "golf.zip", manifest_2004("3rd"))
    result = await invoke("courses", "import", str(path), "--slug", "golf-cli", "--completion", "passed")
    assert result.exit_code == 0, result.output
    async with committed_db.session() as session:
        rules = set((await session.execute(
            select(ScormSco.completion_rule).join(CourseVersion, CourseVersion.id == ScormSco.version_id)
            .join(Course, Course.id == CourseVersion.course_id).where(Course.slug == "golf-cli"))).scalars())
    assert rules == {"passed"}
    refused = await invoke("courses", "import", str(path), "--completion", "finished")
    assert refused.exit_code == 2 and "completion" in refused.output


def place_of(text: str, line_with: str, at: str) -> tuple[int, int]:
    """(line, column), both from 1, of `at` on the first line of `text` holding `line_with`."""
    number, source = next((n, s) for n, s in enumerate(text.splitlines(), 1) if line_with in s)
    return number, source.index(at) + 1


BROKEN_BANK = '<?xml version="1.0"?>\n<quiz>\n  <question type="essay">\n</quiz>\n'


@pytest.mark.parametrize("broken", ["yaml", "moodle_xml", "scorm_manifest"])
async def test_a_refused_package_prints_each_syntax_error_as_file_line_column(operator_env, committed_db,
                                                                             tmp_path, broken):
    if broken == "yaml":
        manifest = sample_manifest().replace("title: Kỹ năng số cơ bản", "title: Kỹ năng số: cơ bản", 1)
        path = package_zip(tmp_path / "yaml.zip", manifest=manifest)
        file, (line, column) = "course.yaml", place_of(manifest, "title: Kỹ năng số: cơ bản", ": cơ bản")
    elif broken == "moodle_xml":
        manifest = sample_manifest().replace("{gift: quizzes/cuoi-khoa.gift,", "{moodle_xml: quizzes/bank.xml,")
        path = package_zip(tmp_path / "moodle.zip", manifest=manifest, drop=("quizzes/cuoi-khoa.gift",),
                           extra={"quizzes/bank.xml": BROKEN_BANK.encode()})
        file, (line, column) = "quizzes/bank.xml", place_of(BROKEN_BANK, "</quiz>", "quiz")
    else:
        manifest = manifest_12().replace("<title>Golf Basics</title>", "<title>Golf Basics</titel>")
        path = scorm_zip(tmp_path / "golf.zip", manifest)
        file, (line, column) = "imsmanifest.xml", place_of(manifest, "</titel>", "titel>")
    result = await invoke("courses", "import", str(path))
    assert result.exit_code == 1, result.output
    assert f"  {file}:{line}:{column}: " in result.output, result.output


async def test_a_problem_without_a_column_keeps_file_line(operator_env, committed_db, tmp_path):
    manifest = sample_manifest().replace("pass_score: 80", "pass_score: 180")
    result = await invoke("courses", "import", str(package_zip(tmp_path / "score.zip", manifest=manifest)))
    line, _ = place_of(manifest, "pass_score: 180", "pass_score")
    assert result.exit_code == 1, result.output
    assert re.search(rf"^  course\.yaml:{line}: \S", result.output, re.MULTILINE), result.output
