"""Every cross-domain reaction, in one place: what other domains do when something in one domain changes.

A domain announces a change with `app.core.events.announce`; the reactions below run in the same unit of work.
Importing this module registers them (`app.services.wiring` imports it for the API, the worker and the CLI).

| event | announced by | reactions |
| --- | --- | --- |
| learner renamed | identity (profile update) | certificates with the old name reissued; feed items re-rendered |
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.events import LEARNER_RENAMED, reacts_to
from app.models.identity import User
from app.services.certificates.issuing import reissue_for_name_change
from app.services.completion import feed_items


@reacts_to(LEARNER_RENAMED)
async def renew_what_prints_the_name(session: AsyncSession, user: User) -> None:
    """Certificates and completion-feed lines carry the learner's name: a correction renews both."""
    await reissue_for_name_change(session, user)
    await feed_items.rerender_for_learner(session, user.id, user.full_name)
