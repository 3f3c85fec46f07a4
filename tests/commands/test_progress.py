"""`hocso progress prune`, run as an operator would."""

from datetime import timedelta

import anyio.to_thread
from sqlalchemy import insert
from typer.testing import CliRunner

from app.cli import app as hocso
from app.models.base import utcnow
from app.models.learning import ProgressEvent
from tests.factories import make_user
from tests.services.learning.test_retention import event_at


async def test_the_prune_command_deletes_what_is_past_the_days_given(operator_env, committed_db):
    async with committed_db.session() as session:
        user = await make_user(session)
        await session.execute(insert(ProgressEvent), [
            event_at(user.id, utcnow() - timedelta(days=days), n) for n, days in enumerate([10, 5])])
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, ["progress", "prune", "--days", "7"]))
    assert result.exit_code == 0 and result.output.strip() == "Đã xóa 1 sự kiện tiến độ cũ hơn 7 ngày."
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(
        hocso, ["--lang", "en", "progress", "prune", "--days", "7"]))
    assert result.exit_code == 0 and result.output.strip() == "0 progress events older than 7 days deleted."
