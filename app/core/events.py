"""Domain events inside one unit of work: a domain announces what changed; other domains react, in the same
transaction, without the announcing domain importing them.

Reactions are registered in one place, `app/services/reactions.py`, so a reader sees every cross-domain effect
there. An event that must be handled raises when nobody has registered for it (the reactions module was not
imported), instead of silently doing nothing.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Reaction = Callable[..., Awaitable[None]]
_reactions: dict[str, list[Reaction]] = {}

LEARNER_RENAMED = "learner_renamed"  # payload: user (the learner, already renamed and flushed)
LESSON_MET = "lesson_met"  # payload: user_id, course_id (a lesson's progress was just completed and flushed)


def reacts_to(event: str) -> Callable[[Reaction], Reaction]:
    def register(fn: Reaction) -> Reaction:
        _reactions.setdefault(event, []).append(fn)
        return fn
    return register


async def announce(session: AsyncSession, event: str, **payload: Any) -> None:
    """Run every reaction to `event` in the caller's unit of work, in registration order."""
    handlers = _reactions.get(event)
    if not handlers:
        raise RuntimeError(f"no reaction registered for {event!r}: import app.services.reactions")
    for handler in handlers:
        await handler(session, **payload)
