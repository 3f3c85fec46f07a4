from datetime import timedelta

import pytest

from app.models.base import utcnow
from app.services.learning import heartbeat_batch
from app.services.learning import progress as progress_service


@pytest.fixture
def clock(monkeypatch):
    """The server's clock for heartbeats, moved by hand so the 2x cap can be exercised without sleeping."""

    class Clock:
        now = utcnow()

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    clock = Clock()
    monkeypatch.setattr(progress_service, "utcnow", lambda: clock.now)
    monkeypatch.setattr(heartbeat_batch, "utcnow", lambda: clock.now)
    return clock
