"""The load scenarios. Each is prepared (not measured) and then asked for one request at a time per client.

A scenario's `prepare` builds what its requests need — tokens, enrolments, learners who met the rules, open
quiz attempts — through the API where that is cheap and through set-based SQL where the API cannot be fast by
design (earning 90% of a video takes real minutes: the server caps credit at twice the wall-clock time).
"""

from bench.context import BenchContext
from bench.driver import Request, Response
from bench.report import Target


class Scenario:
    name = "scenario"
    target = Target()
    needs_seed = False  # only meaningful at 10M completions

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        """Build what the requests need; `concurrency` clients will send for about `duration_s`."""

    def next_request(self, client: int) -> Request | None:
        raise NotImplementedError

    def on_response(self, client: int, request: Request, response: Response) -> None:
        pass

    def note(self) -> str:
        return ""


class Healthz(Scenario):
    """The framework's ceiling: no database, no auth, a constant body."""

    name = "/healthz"
    request = Request("GET", "/healthz")

    def next_request(self, client: int) -> Request:
        return self.request
