"""Every cross-domain reaction, in one place: what other domains do when something in one domain changes.

A domain announces a change with `app.core.events.announce`; the reactions below run in the same unit of work.
Importing this module registers them (`app.services.wiring` imports it for the API, the worker and the CLI).

| event | announced by | reactions |
| --- | --- | --- |
| learner renamed | identity (profile update) | certificates with the old name reissued; feed items re-rendered |
| lesson met | scorm (a SCO met its lesson's rule) | the course completion recorded if that was the last requirement |
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.events import LEARNER_RENAMED, LESSON_MET, reacts_to
from app.models.identity import User
from app.services.certificates.issuing import reissue_for_name_change
from app.services.completion import feed_items
from app.services.completion.completions import complete_if_met


@reacts_to(LEARNER_RENAMED)
async def renew_what_prints_the_name(session: AsyncSession, user: User) -> None:
    """Certificates and completion-feed lines carry the learner's name: a correction renews both."""
    await reissue_for_name_change(session, user)
    await feed_items.rerender_for_learner(session, user.id, user.full_name)


@reacts_to(LESSON_MET)
async def complete_course_if_met(session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID) -> None:
    """A lesson met outside the learning domain's own paths (a SCO's commit) may be the course's last one."""
    await complete_if_met(session, user_id, course_id)
