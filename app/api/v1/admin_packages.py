"""Importing course packages and publishing courses (content and ministry admins)."""

import uuid
from typing import Annotated, Literal

from fastapi import Body, Depends, Query, Request, Response

from app.api.deps import ContentAdmin, SessionDep, SettingsDep, StorageDep
from app.api.problems import problem
from app.api.v1 import v1_router
from app.api.v1.courses import forget_catalogue
from app.models.course import (
    AdminCourse,
    AdminCoursePage,
    CompletionRule,
    ImportJobPublic,
    ImportOptions,
    PublishRequest,
    UploadTicket,
)
from app.services.content.packages import uploads, versions

router = v1_router("/admin", tags=["course packages"])
_ACCEPTED = {202: {"description": "Import queued; poll `GET /api/v1/admin/imports/{id}`"},
             403: problem("Not a content or ministry admin")}
PublishFlag = Annotated[bool, Query(description="Publish when the import succeeds")]
_MULTIPART = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "The package (.zip)"}}}}}}}


def import_options(
        slug: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                                          description="SCORM: the course slug (default: the title, Vietnamese "
                                          "folded)")] = None,
        audiences: Annotated[list[Literal["citizen", "official"]] | None,
                             Query(description="SCORM: who may enroll (default both)")] = None,
        language: Annotated[str, Query(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$",
                                       description="SCORM: the course language")] = "vi",
        certificate: Annotated[bool, Query(description="SCORM: issue certificates")] = False,
        estimated_minutes: Annotated[int, Query(ge=0, le=100_000, description="SCORM: shown in the "
                                                "catalogue")] = 0,
        completion: Annotated[CompletionRule | None, Query(description="SCORM: when each SCO's lesson is met "
                                                           "(default: by the package's version)")] = None,
) -> ImportOptions:
    """What a SCORM package does not carry; a HocSo package's course.yaml says it itself."""
    return ImportOptions(slug=slug, language=language, certificate=certificate, estimated_minutes=estimated_minutes,
                         completion=completion, **({"audiences": audiences} if audiences else {}))


Options = Annotated[ImportOptions, Depends(import_options)]


def _accepted(response: Response, job: ImportJobPublic) -> ImportJobPublic:
    response.headers["Location"] = f"/api/v1/admin/imports/{job.id}"
    return job


@router.post("/course-packages", status_code=202, response_model=ImportJobPublic, openapi_extra=_MULTIPART,
             summary="Upload a course package", responses={**_ACCEPTED, 413: problem("Too large")})
async def upload_package(request: Request, response: Response, session: SessionDep, storage: StorageDep,
                         settings: SettingsDep, admin: ContentAdmin, options: Options,
                         publish: PublishFlag = False) -> ImportJobPublic:
    """Multipart field `file`, streamed to storage as it arrives (several GB work; nothing is buffered whole).
    Answers 202 with the import job."""
    # End the sign-in read transaction now: a long upload must not hold a database connection or lock.
    # Transaction exception «uploads end the read first» (docs/architecture.md).
    await session.commit()
    headers = request.headers
    job = await uploads.accept_package(session, storage, settings, admin, request.stream(),
                                       headers.get("content-type"), headers.get("content-length"),
                                       publish=publish, options=options)
    return _accepted(response, job)


@router.post("/course-packages/uploads", status_code=201, response_model=UploadTicket,
             summary="Get a URL to upload a package directly")
async def create_upload(storage: StorageDep, settings: SettingsDep, admin: ContentAdmin) -> UploadTicket:
    """PUT the zip to `url` with `headers` (straight to object storage), then call
    `POST /api/v1/admin/course-packages/uploads/{upload_id}/import`."""
    return await uploads.upload_ticket(storage, settings)


@router.post("/course-packages/uploads/{upload_id}/import", status_code=202, response_model=ImportJobPublic,
             summary="Import a directly uploaded package",
             responses={**_ACCEPTED, 404: problem("No upload")})
async def import_uploaded(upload_id: uuid.UUID, response: Response, session: SessionDep, storage: StorageDep,
                          settings: SettingsDep, admin: ContentAdmin, options: Options,
                          publish: PublishFlag = False) -> ImportJobPublic:
    job = await uploads.import_upload(session, storage, settings, admin, upload_id, publish=publish,
                                      options=options)
    return _accepted(response, job)


@router.get("/imports/{import_id}", response_model=ImportJobPublic, summary="Follow an import")
async def get_import(import_id: uuid.UUID, session: SessionDep, admin: ContentAdmin) -> ImportJobPublic:
    """`status` queued|running|succeeded|failed, `step` unpacking|validating|storing|publishing, `percent`,
    and on failure every problem as `{file, line?, message}`."""
    return await uploads.get_import(session, import_id)


@router.get("/courses", response_model=AdminCoursePage, summary="All courses, drafts included")
async def list_courses(session: SessionDep, admin: ContentAdmin,
                       q: Annotated[str | None, Query(max_length=200)] = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       cursor: Annotated[str | None, Query(max_length=500)] = None) -> AdminCoursePage:
    return await versions.list_admin_courses(session, q=q, limit=limit, cursor=cursor)


@router.post("/courses/{course}/publish", response_model=AdminCourse, summary="Publish a version")
async def publish(course: str, request: Request, session: SessionDep, admin: ContentAdmin,
                  body: Annotated[PublishRequest | None, Body()] = None) -> AdminCourse:
    """The newest draft by default, or `{"version": n}` (an archived version too: a rollback). The version
    published before is archived; enrolled learners move to the new one, keeping progress by lesson key.
    The catalogue shows it at once on this worker, within `HOCSO_CATALOGUE_CACHE_TTL_S` on the others."""
    published = await versions.publish_course(session, course, body.version if body else None)
    forget_catalogue(request)
    return (await versions.admin_courses(session, [published]))[0]


@router.post("/courses/{course}/archive", response_model=AdminCourse, summary="Withdraw a course")
async def archive(course: str, request: Request, session: SessionDep, admin: ContentAdmin) -> AdminCourse:
    """Archives the published version: the course leaves the catalogue (at once on this worker, within
    `HOCSO_CATALOGUE_CACHE_TTL_S` on the others); enrolled learners keep access."""
    archived = await versions.archive_course(session, course)
    forget_catalogue(request)
    return (await versions.admin_courses(session, [archived]))[0]

