"""How often a province-scoped partner client may be told "not for you" about a learner it names (issue 18).

A scoped client that names, by phone or national ID, a learner of another province (or of none) is refused:
it may not touch that account, and cannot create a second one with the same phone or ID. The refusal carries
one bit, "this identifier is taken outside your province", so it is bounded and visible: at most
HOCSO_PARTNER_ELSEWHERE_PER_HOUR refusals per client in any hour (a moving window, in the rate-limit storage:
Redis when HOCSO_REDIS_URL is set, so every worker and host spends one budget), each one logged with the client
and the field it named, never the phone or ID.

Once the budget is spent, a report that would be refused *or would create a learner* gets the same 429 until
the window frees a refusal: refusing only the refusals would leave "429 or 201" as the same bit at full rate.
Repeats of the client's own reports and reports of learners already registered in its own province go on as
before: a spent budget pauses the client's new learners, never its reports of the learners it already has.
"""

import logging
from dataclasses import dataclass

from app.core.errors import FieldError
from app.core.i18n import messages
from app.core.ratelimit import RateLimits, retry_after

LIMIT_NAME = "partner-elsewhere"
WINDOW_S = 3600

log = logging.getLogger("hocso.partner")

messages({
    "partner_lookups_limited": (
        "Quá nhiều báo cáo của ứng dụng này bị từ chối trong một giờ qua: báo cáo cần tìm hoặc tạo người học "
        "được gửi lại sau {retry_after} giây.",
        "Too many of this client's reports were refused in the past hour: reports that must find or create a "
        "learner can be sent again in {retry_after} seconds.",
    ),
})


class LookupsLimited(FieldError):
    """A report not answered now because the client's refusal budget is spent; names no field, so it says
    nothing of which identifier (if any) matched."""

    def __init__(self, wait_s: float) -> None:
        self.retry_after = retry_after(wait_s)
        super().__init__("partner_lookups_limited", retry_after=self.retry_after)
        self["retry_after"] = self.retry_after


@dataclass
class RefusalBudget:
    """One client's budget of refused lookups, for the length of one request."""

    limits: RateLimits
    client_id: str
    per_hour: int
    _open: bool = False  # a refusal was left when last looked and this request has spent none since

    async def refuse(self, field: str) -> float | None:
        """Spend one refusal of a learner named by `field`: None within the budget, else seconds to wait."""
        self._open = False
        wait = await self.limits.hit(LIMIT_NAME, self.client_id, limit=self.per_hour, window_s=WINDOW_S)
        log.warning("partner client %s named by %s a learner outside its province%s", self.client_id, field,
                    "" if wait is None else "; refusal budget spent",
                    extra={"client": self.client_id, "kind": "partner_learner_elsewhere", "field": field})
        return wait

    async def spent(self) -> float | None:
        """None while a refusal is left (the client may create a learner), else seconds to wait."""
        if self._open:
            return None
        wait = await self.limits.exhausted(LIMIT_NAME, self.client_id, limit=self.per_hour, window_s=WINDOW_S)
        self._open = wait is None
        if wait is not None:
            log.info("partner client %s may create no learner until its refusal budget frees one", self.client_id,
                     extra={"client": self.client_id, "kind": "partner_lookups_limited"})
        return wait
