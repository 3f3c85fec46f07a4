"""Recording the SQL a block of test code runs on a session's connection (statement counts per operation)."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession


@contextmanager
def statements_run(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements the session's connection executes inside the block, in order."""
    seen: list[str] = []
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
