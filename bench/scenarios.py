"""The load scenarios. Each is prepared (not measured) and then asked for one request at a time per client.

A scenario's `prepare` builds what its requests need — tokens, enrollments, learners who met the rules, open
quiz attempts — through the API where that is cheap and through set-based SQL where the API cannot be fast by
design (earning 90% of a video takes real minutes: the server caps credit at twice the wall-clock time).
"""

import json

from app.core.pagination import encode_cursor
from bench.context import BenchContext, bearer
from bench.driver import Request, Response
from bench.report import Target

SEED_YEAR = 2025  # the year bench/seed_10m.py fills


class Scenario:
    name = "scenario"
    key = "scenario"  # what `--only` takes
    target = Target()
    needs_seed = False  # only meaningful at 10M completions
    concurrency: int | None = None  # clients for this scenario (default: the run's)
    # Relations read into the page cache just before the scenario (bench.run.prewarm): a production database
    # keeps its working set in RAM, this VM pages out files untouched for about a minute (docs, Machine).
    warm: tuple[str, ...] = ()

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

    name, key = "/healthz", "healthz"
    request = Request("GET", "/healthz")

    def next_request(self, client: int) -> Request:
        return self.request


class CatalogueList(Scenario):
    """The catalogue's first page, as an anonymous visitor's browser asks for it (no ETag to revalidate)."""

    name, key = "catalogue list", "catalogue"
    target = Target(min_ratio=0.5)
    request = Request("GET", "/api/v1/courses")

    def next_request(self, client: int) -> Request:
        return self.request


class CourseDetail(Scenario):
    """One course's outline, rotating over the 50 bench courses."""

    name, key = "course detail", "course"

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        self.requests = [Request("GET", f"/api/v1/courses/{c.slug}") for c in ctx.courses]
        self.turn = 0

    def next_request(self, client: int) -> Request:
        self.turn += 1
        return self.requests[self.turn % len(self.requests)]


class StatsSummary(Scenario):
    """A ministry system reading the national summary of the seeded year (10M completions)."""

    name, key = "stats summary (10M)", "stats"
    target = Target(min_ratio=0.4, max_p99_ms=50)
    needs_seed = True

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        token = ctx.service_token(["stats:read"])
        self.request = Request("GET", f"/api/v1/stats/summary?year={SEED_YEAR}", headers=bearer(token))

    def next_request(self, client: int) -> Request:
        return self.request


def page_envelope(body: bytes) -> dict:
    """A feed page's `next_cursor` and `has_more`, parsed from the tail of its body. The items before them
    are 400 KB a page; decoding them all cost the driver more CPU per page than the server's worker spent,
    CPU taken from PostgreSQL on the shared core."""
    tail = body.rfind(b',"next_cursor":')
    if tail < 0 or not body.startswith(b'{"items":['):
        raise ValueError(f"not a feed page: {body[:100]!r}")
    return json.loads(b"{" + body[tail + 1:])


class CompletionFeed(Scenario):
    """Ministry consumers paging the completion feed 1,000 at a time with the cursor, from the beginning of
    10M completions; each client follows its own `next_cursor` (keyset pages cost the same at any depth)."""

    name, key = "completion feed page (10M)", "feed"
    target = Target(max_p99_ms=200)
    needs_seed = True
    warm = ("completion", "ix_completion_feed", "uq_completion_id")
    query = ""

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        self.headers = bearer(ctx.service_token(["completions:read"]))
        self.cursors: dict[int, str | None] = {}
        self.pages = 0

    def filters(self, client: int) -> str:
        return self.query

    def next_request(self, client: int) -> Request:
        cursor = self.cursors.get(client)
        query = f"limit=1000{self.filters(client)}" + (f"&cursor={cursor}" if cursor else "")
        return Request("GET", f"/api/v1/completions?{query}", headers=self.headers)

    def on_response(self, client: int, request: Request, response: Response) -> None:
        if response.status == 200:
            page = page_envelope(response.body)
            self.pages += 1
            self.cursors[client] = page["next_cursor"] if page.get("has_more") else None

    def note(self) -> str:
        return f"{self.pages:,} pages read"


class CompletionFeedProvince(CompletionFeed):
    """The same feed narrowed to one province (with its former units), as a provincial system reads it; each
    client asks for a different province."""

    name, key = "completion feed, one province (10M)", "feed-province"
    warm = ("ix_completion_province_feed", "uq_completion_id")

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        await super().prepare(ctx, concurrency, duration_s)
        conn = await ctx.connect()
        try:
            self.provinces = [r["code"] for r in await conn.fetch(
                "SELECT code FROM admin_unit WHERE valid_to IS NULL ORDER BY code")]
        finally:
            await conn.close()

    def filters(self, client: int) -> str:
        return f"&province={self.provinces[client % len(self.provinces)]}"


class CompletionFeedSpread(CompletionFeed):
    """Consumers at different places in the feed: each client starts 10M / clients completions after the
    previous one, so no two read the same page (the main feed scenario's clients all start at the beginning
    and read the same pages, which the worker renders once and shares)."""

    name, key = "completion feed page, consumers spread (10M)", "feed-spread"

    async def prepare(self, ctx: BenchContext, concurrency: int, duration_s: float) -> None:
        await super().prepare(ctx, concurrency, duration_s)
        conn = await ctx.connect()
        try:
            txid, first, last = await conn.fetchrow("SELECT min(txid), min(seq), max(seq) FROM completion")
        finally:
            await conn.close()
        step = (last - first) // concurrency
        self.cursors = {client: encode_cursor(txid, first + client * step) for client in range(concurrency)}


class CompletionFeedOneConsumer(CompletionFeed):
    """One consumer paging alone: the latency a ministry system sees when it is the only reader."""

    name, key = "completion feed page, 1 consumer (10M)", "feed-one"
    target = Target()
    concurrency = 1
