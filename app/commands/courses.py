"""`hocso courses import PATH.zip [--publish]`: import a course package in-process, with a progress bar."""

import uuid
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from app.commands.common import ROOT, run_with_db
from app.core.db import Database
from app.core.i18n import messages, t
from app.core.storage import build_storage
from app.models.course import CourseVersion, ImportJob, ImportOptions, ImportStep
from app.services.content.packages.importer import ensure_course, import_file
from app.services.content.packages.problems import render_record

app = typer.Typer(help="Course packages", no_args_is_help=True)
SAMPLE_PACKAGE = ROOT / "examples" / "ky-nang-so-co-ban.zip"
SAMPLE_SLUG = "ky-nang-so-co-ban"
messages({
    "cli_step_uploading": ("Tải lên", "Uploading"), "cli_step_unpacking": ("Giải nén", "Unpacking"),
    "cli_step_validating": ("Kiểm tra", "Checking"), "cli_step_storing": ("Lưu tệp", "Storing files"),
    "cli_step_publishing": ("Ghi khóa học", "Saving course"),
    "cli_sample_missing": ("Khóa học mẫu: không có {path}, bỏ qua.", "Sample course: {path} not found, skipped."),
    "cli_sample_present": ("Khóa học mẫu: {slug} đã có.", "Sample course: {slug} already present."),
    "cli_sample_failed": ("Khóa học mẫu: nhập không thành công: {errors}", "Sample course: import failed: {errors}"),
    "cli_sample_imported": ("Khóa học mẫu: đã nhập và xuất bản {slug}.",
                            "Sample course: {slug} imported and published."),
    "cli_package_missing": ("Không có tệp {path}.", "There is no file {path}."),
    "cli_import_failed": ("Nhập gói khóa học không thành công ({count} lỗi):",
                          "The import failed ({count} problem(s)):"),
    "cli_imported_published": ("Đã nhập khóa học {course_id}, phiên bản {version}: đã xuất bản.",
                               "Imported course {course_id}, version {version}: published."),
    "cli_imported_draft": (
        "Đã nhập khóa học {course_id}, phiên bản {version}: bản nháp (xuất bản bằng "
        "POST /api/v1/admin/courses/{course_id}/publish).",
        "Imported course {course_id}, version {version}: a draft (publish with "
        "POST /api/v1/admin/courses/{course_id}/publish)."),
})


@app.command("import")
def import_package(
    path: Path = typer.Argument(..., help="The package (.zip)"),
    publish: bool = typer.Option(False, "--publish", help="Publish the new version when the import succeeds"),
    slug: str | None = typer.Option(None, help="SCORM: course slug (default: the title, Vietnamese folded)"),
    audience: list[str] | None = typer.Option(None, help="SCORM: citizen and/or official (default both)"),
    language: str = typer.Option("vi", help="SCORM: course language"),
    certificate: bool = typer.Option(False, "--certificate", help="SCORM: issue certificates"),
    minutes: int = typer.Option(0, help="SCORM: estimated minutes"),
    completion: str | None = typer.Option(None, help="SCORM: when each SCO's lesson is met: completed, passed, "
                                          "completed_or_passed or completed_and_passed (default: by version)"),
) -> None:
    """Import PATH.zip as a new version of its course (a new course for a new slug)."""
    console = Console(stderr=True)
    if not path.is_file():
        typer.echo(t("cli_package_missing", path=path), err=True)
        raise typer.Exit(1)
    try:
        options = ImportOptions.model_validate({"slug": slug, "language": language, "certificate": certificate,
                                                "estimated_minutes": minutes, "completion": completion,
                                                **({"audiences": audience} if audience else {})})
    except ValidationError as bad:
        typer.echo(f"Invalid option: {bad.errors()[0]['loc'][0]}: {bad.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from None

    async def run(db: Database) -> tuple[ImportJob, int | None]:
        with Progress(TextColumn("{task.description:<14}"), BarColumn(), TaskProgressColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task(t("cli_step_uploading"), total=100)

            def on_progress(step: ImportStep, percent: int) -> None:
                bar.update(task, description=t(f"cli_step_{step}"), completed=percent)

            job = await import_file(db, build_storage(db.settings), path, publish=publish, options=options,
                                    on_progress=on_progress)
        async with db.session() as session:
            version = await session.get(CourseVersion, job.version_id) if job.version_id else None
        return job, version.version if version else None

    job, number = run_with_db(run)
    if job.status != "succeeded":
        typer.echo(t("cli_import_failed", count=len(job.errors)), err=True)
        for error in job.errors:
            shown = render_record(error)
            typer.echo(f"  {where(shown)}: {shown['message']}", err=True)
            if shown.get("hint"):
                typer.echo(f"    → {shown['hint']}", err=True)
        raise typer.Exit(1)
    for notice in job.notices or []:
        shown = render_record(notice)
        typer.echo(f"  {where(shown)}: {shown['message']}", err=True)
    typer.echo(t("cli_imported_published" if job.publish else "cli_imported_draft", course_id=job.course_id,
                 version=number))


def where(problem: dict) -> str:
    """`file:line:column` as editors and CI annotations read it; the line and column only where known."""
    place = problem.get("file", "")
    if problem.get("line"):
        place += f":{problem['line']}" + (f":{problem['column']}" if problem.get("column") else "")
    return place


async def seed_sample_course(db: Database, created_by: uuid.UUID | None = None) -> str:
    """Import and publish the sample package unless its course exists (demo seeding); says what happened."""
    if not SAMPLE_PACKAGE.exists():
        return t("cli_sample_missing", path=SAMPLE_PACKAGE)
    storage = build_storage(db.settings)
    job = await ensure_course(db, storage, SAMPLE_PACKAGE, SAMPLE_SLUG, created_by=created_by)
    if job is None:
        return t("cli_sample_present", slug=SAMPLE_SLUG)
    if job.status != "succeeded":
        return t("cli_sample_failed", errors=[render_record(e) for e in job.errors])
    return t("cli_sample_imported", slug=SAMPLE_SLUG)
