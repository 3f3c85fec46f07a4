"""The feed's cursors and its export stream, below the HTTP layer."""

import asyncio

import pytest

from app.core.errors import ValidationFailed
from app.core.pagination import encode_cursor
from app.services import completion_feed
from app.services.completion_feed import FeedFilter
from app.services.geo import load_geography
from tests.reporting import complete


@pytest.mark.parametrize("cursor", ["%%%", encode_cursor("12", 3), encode_cursor(1), encode_cursor(1.5, 2)])
async def test_cursors_that_are_not_feed_positions_are_422_on_cursor(session, cursor):
    with pytest.raises(ValidationFailed) as err:
        await completion_feed.read_page(session, FeedFilter(), cursor=cursor, limit=10)
    assert err.value.errors[0]["field"] == "cursor"


async def test_an_export_in_progress_does_not_stop_completions_being_recorded(committed_db):
    async with committed_db.session() as session:
        for _ in range(2):
            await complete(session)
        geo = await load_geography(session)
    stream = completion_feed.export(committed_db, geo, FeedFilter(), "csv")
    try:
        # The header comes once the query runs: from here the export holds its connection and cursor.
        assert (await anext(stream)).startswith("\ufeff".encode())

        async def record_another():
            async with committed_db.session() as session:
                await complete(session)

        # On SQLite a transaction takes the single write lock: the export must not be holding it.
        await asyncio.wait_for(record_another(), timeout=5)
    finally:
        await stream.aclose()
