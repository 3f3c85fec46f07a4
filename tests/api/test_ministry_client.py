"""End to end, as a ministry system would: an operator creates it with `hocso clients create`, it signs in
with client credentials, reads /api/v1/stats/summary and pages /api/v1/completions to the end, and the count
it collects equals the summary's completions."""

import json
from datetime import UTC, datetime

import anyio.to_thread
import pytest
from typer.testing import CliRunner

from app.cli import app as hocso
from tests.factories import auth, make_course
from tests.factories.reporting import complete, live_app, read_feed  # noqa: F401  (live_app: the `live` fixture)
from tests.private_pg import feed_database_url, settings_on_private_server  # noqa: F401 (the feed's horizon)

YEAR = 2026


@pytest.fixture
def operator_shell(operator_env, live):
    return live


async def create_client_with_the_cli(scopes: str) -> dict[str, str]:
    args = ["clients", "create", "--name", "Cổng thống kê Bộ KH&CN", "--scopes", scopes]
    # asyncio.run inside the command needs a thread without a running event loop.
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def arrange_a_year_of_completions(shell) -> None:
    async def arrange(session):
        course = (await make_course(session, lessons=[])).course
        for province, audience in [("01", "citizen"), ("06", "citizen"), ("19", "official"),
                                   ("79", "citizen"), ("22", "official")]:
            await complete(session, province=province, audience=audience, course=course)
        # 17:30 UTC on 31 December 2025 is already New Year's Day in Hà Nội: it belongs to 2026.
        await complete(session, at=datetime(2025, 12, 31, 17, 30, tzinfo=UTC))
        await complete(session, at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC))  # still 2025 locally
        for _ in range(3):
            await complete(session, province="48")

    await shell.arrange(arrange)


async def test_a_cli_created_client_pages_the_feed_to_the_summarys_count(operator_shell):
    await arrange_a_year_of_completions(operator_shell)
    client = operator_shell.client
    credentials = await create_client_with_the_cli("stats:read,completions:read")
    r = await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", **credentials})
    assert r.status_code == 200, r.text
    headers = auth(r.json()["access_token"])

    summary = await client.get("/api/v1/stats/summary", params={"year": YEAR}, headers=headers)
    assert summary.status_code == 200, summary.text
    expected = sum(a["completions"] for a in summary.json()["audiences"].values())
    assert expected == 9

    year = {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
    collected, _ = await read_feed(client, headers, expected=expected, limit=2, **year)
    assert len(collected) == len({c["id"] for c in collected}) == expected
    for audience, figures in summary.json()["audiences"].items():
        assert figures["completions"] == sum(c["audience"] == audience for c in collected)


async def test_a_client_without_completions_read_cannot_page_the_feed(operator_shell):
    client = operator_shell.client
    credentials = await create_client_with_the_cli("stats:read")
    token = (await client.post("/api/v1/auth/token",
                                    data={"grant_type": "client_credentials", **credentials})).json()
    headers = auth(token["access_token"])
    assert (await client.get("/api/v1/stats/summary", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/completions", headers=headers)).status_code == 403

