"""The completion feed for ministry systems, its bulk export, and completions reported by partners."""

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.api.deps import DatabaseDep, Principal, RateLimitsDep, SessionDep, SettingsDep, require_scope
from app.api.problems import problem
from app.api.v1 import v1_router
from app.core.errors import Forbidden
from app.core.i18n import current_language
from app.core.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from app.models.base import utcnow
from app.models.identity import Audience, Scope
from app.models.reporting import FeedPage, PartnerBatchIn, PartnerBatchOut, PartnerCompletionIn, PartnerResult
from app.services.completion import partner as partner_completions
from app.services.completion.refusals import RefusalBudget
from app.services.stats import completion_export
from app.services.stats import feed as completion_feed
from app.services.stats.feed import FeedFilter

router = v1_router("/completions", tags=["completions"])

FeedReader = Annotated[Principal, Depends(require_scope(Scope.completions_read))]
PartnerWriter = Annotated[Principal, Depends(require_scope(Scope.completions_write))]
EXPORT_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE, "ndjson": "application/x-ndjson"}


async def feed_filter(
    session: SessionDep, principal: FeedReader,
    province: Annotated[str | None, Query(
        min_length=2, max_length=2, description="A current province: includes its former units")] = None,
    audience: Audience | None = None,
    course: Annotated[str | None, Query(max_length=100, description="Course slug or id")] = None,
    first_day: Annotated[date | None, Query(alias="from", description="First local day, inclusive")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Last local day, inclusive")] = None,
) -> FeedFilter:
    """The feed's filters; a province-scoped client only ever sees its own province."""
    return await completion_feed.build_filter(session, province=province, audience=audience, course=course,
                                              first_day=first_day, last_day=last_day,
                                              scoped_province=principal.province_code)


FeedFilterDep = Annotated[FeedFilter, Depends(feed_filter)]


@router.get("", summary="Page through completions (completions:read)", response_model=FeedPage)
async def list_completions(
    request: Request, db: DatabaseDep, filters: FeedFilterDep,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=completion_feed.MAX_PAGE)] = 100,
) -> Response:
    """Every completion exactly once, in the order their transactions finished, keyset-paginated: keep the
    last `next_cursor` and come back with it at any time. Completions still being written concurrently are
    served on a later call, never skipped. `has_more` is true when the next page is ready right now."""
    # The page comes rendered in the FeedPage shape (by PostgreSQL where it can): passed on, not validated again.
    page = await completion_feed.read_page(db, filters, cursor=cursor, limit=limit,
                                           pages=request.app.state.per_worker.feed_pages)
    return Response(page, media_type="application/json")


@router.get("/export", summary="Export completions as CSV, XLSX or NDJSON (completions:read)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}, "application/x-ndjson": {}},
                             "description": "One row (or JSON line) per completion"}})
async def export_completions(
    db: DatabaseDep, session: SessionDep, filters: FeedFilterDep,
    format: Literal["csv", "xlsx", "ndjson"] = "csv",
    delimiter: Annotated[Literal[",", ";"], Query(
        description="CSV only: `;` for Excel in a Vietnamese (or other comma-decimal) locale")] = ",",
) -> StreamingResponse:
    """All completions matching the filters, streamed (constant memory however many there are).
    CSV (for machines): UTF-8 with a byte-order mark, the feed's field names as headers, `completed_at` in
    UTC and `completed_at_local` in Asia/Ho_Chi_Minh. XLSX (for people): Vietnamese headers (English with
    `Accept-Language: en`), local dates, codes as text with province and course names beside them."""
    english = current_language() == "en"
    names = await completion_export.load_names(session) if format == "xlsx" else None
    body = completion_export.export(db, filters, format, names=names, english=english, delimiter=delimiter)
    name = f"completions-{utcnow():%Y%m%d}.{format}"
    return StreamingResponse(body, media_type=EXPORT_TYPES[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _client_id(principal: Principal) -> str:
    if principal.client_id is None:  # require_scope only lets service clients through
        raise Forbidden()
    return principal.client_id


async def refusal_budget(principal: PartnerWriter, limits: RateLimitsDep,
                         settings: SettingsDep) -> RefusalBudget | None:
    """A province-scoped client's budget of refused lookups (shared by every worker through Redis)."""
    if principal.province_code is None:
        return None
    return RefusalBudget(limits, _client_id(principal), settings.partner_elsewhere_per_hour)


RefusalsDep = Annotated[RefusalBudget | None, Depends(refusal_budget)]
_LIMITED = {429: problem("A province-scoped client's refusal budget is spent: reports that would be refused or "
                         "create a learner wait for Retry-After")}


@router.post("", summary="Report a completion from a partner system or class (completions:write)",
             response_model=PartnerResult, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": PartnerResult, "description": "Already recorded: the original"},
                        **_LIMITED})
async def report_completion(session: SessionDep, settings: SettingsDep, principal: PartnerWriter,
                            refusals: RefusalsDep, response: Response, body: PartnerCompletionIn) -> PartnerResult:
    """Records a completion for the learner named by `national_id` (12 digits, stored only as a keyed hash)
    or `phone`, creating their account if needed. 201 when recorded now; 200 with the original when this
    `external_ref` was reported before (`duplicate`) or the learner had already completed the course
    (`already_completed`). Unknown course or province, a future `completed_at` or a malformed ID: 422 naming
    the field. A province-scoped client naming a learner outside its province is 422 on that field, at most
    HOCSO_PARTNER_ELSEWHERE_PER_HOUR (30) times an hour; past that, reports that would be refused or create a
    learner are 429 with Retry-After."""
    result = await partner_completions.record_partner_completion(
        session, client_id=_client_id(principal), secret_key=settings.secret_key, data=body,
        scoped_province=principal.province_code, refusals=refusals)
    if result.status != "created":
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/batch", summary="Report up to 1,000 completions (completions:write)",
             response_model=PartnerBatchOut, responses=_LIMITED)
async def report_completions(
    session: SessionDep, settings: SettingsDep, principal: PartnerWriter, refusals: RefusalsDep,
    body: PartnerBatchIn,
    strict: Annotated[bool, Query(description="Record nothing if any row is bad")] = False,
) -> PartnerBatchOut:
    """Each item as in POST /api/v1/completions, checked and recorded on its own; the answer holds one result
    per row (`row` = index in `items`): created, duplicate, already_completed, or rejected with errors naming
    the row and field. With `strict=true` a bad row rejects the batch (422 listing every bad row) and nothing
    is recorded. Rows held back by a spent refusal budget are rejected with `retry_after` (strict: 429)."""
    return await partner_completions.record_partner_batch(
        session, client_id=_client_id(principal), secret_key=settings.secret_key, items=body.items,
        strict=strict, scoped_province=principal.province_code, refusals=refusals)

