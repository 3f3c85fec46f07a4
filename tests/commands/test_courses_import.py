"""`hocso courses import` of a bare SCORM zip with the operator's import options."""

import anyio.to_thread
from sqlalchemy import select
from typer.testing import CliRunner, Result

from app.cli import app as hocso
from app.models.course import Course, CourseVersion
from app.models.scorm import ScormSco
from tests.factories.scorm_packages import manifest_2004, scorm_zip


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
