"""`hocso courses import PATH.zip [--publish]`: import a course package in-process, with a progress bar."""

import uuid
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from app.commands.common import ROOT, run_with_db
from app.core.db import Database
from app.core.storage import build_storage
from app.models.course import CourseVersion, ImportJob, ImportStep
from app.services.content.packages.importer import ensure_course, import_file
from app.services.content.packages.problems import render_record

app = typer.Typer(help="Course packages", no_args_is_help=True)
SAMPLE_PACKAGE = ROOT / "examples" / "ky-nang-so-co-ban.zip"
SAMPLE_SLUG = "ky-nang-so-co-ban"
STEP_NAMES = {ImportStep.unpacking: "Giải nén", ImportStep.validating: "Kiểm tra",
              ImportStep.storing: "Lưu tệp", ImportStep.publishing: "Ghi khóa học"}


@app.command("import")
def import_package(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The package (.zip)"),
    publish: bool = typer.Option(False, "--publish", help="Publish the new version when the import succeeds"),
) -> None:
    """Import PATH.zip as a new version of its course (a new course for a new slug)."""
    console = Console(stderr=True)

    async def run(db: Database) -> tuple[ImportJob, int | None]:
        with Progress(TextColumn("{task.description:<14}"), BarColumn(), TaskProgressColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task("Tải lên", total=100)

            def on_progress(step: ImportStep, percent: int) -> None:
                bar.update(task, description=STEP_NAMES.get(step, str(step)), completed=percent)

            job = await import_file(db, build_storage(db.settings), path, publish=publish,
                                    on_progress=on_progress)
        async with db.session() as session:
            version = await session.get(CourseVersion, job.version_id) if job.version_id else None
        return job, version.version if version else None

    job, number = run_with_db(run)
    if job.status != "succeeded":
        typer.echo(f"Import failed ({len(job.errors)} problem(s)):", err=True)
        for error in job.errors:
            shown = render_record(error)
            where = shown.get("file", "") + (f":{shown['line']}" if shown.get("line") else "")
            typer.echo(f"  {where}: {shown['message']}", err=True)
        raise typer.Exit(1)
    state = "published" if job.publish else f"a draft (POST /api/v1/admin/courses/{job.course_id}/publish)"
    typer.echo(f"Imported course {job.course_id}, version {number}: {state}")


async def seed_sample_course(db: Database, created_by: uuid.UUID | None = None) -> str:
    """Import and publish the sample package unless its course exists (demo seeding); says what happened."""
    if not SAMPLE_PACKAGE.exists():
        return f"sample course: {SAMPLE_PACKAGE} not found, skipped"
    storage = build_storage(db.settings)
    job = await ensure_course(db, storage, SAMPLE_PACKAGE, SAMPLE_SLUG, created_by=created_by)
    if job is None:
        return f"sample course: {SAMPLE_SLUG} already present"
    if job.status != "succeeded":
        return f"sample course: import failed: {[render_record(e) for e in job.errors]}"
    return f"sample course: {SAMPLE_SLUG} imported and published"
