"""Sub-commands of `hocso`, one module per domain; each exposes `app` (a Typer) registered here."""

import typer


def register(root: typer.Typer) -> None:
    from app.commands import clients, counters, courses, demo, jobs, progress, users

    root.add_typer(demo.app, name="demo")
    root.add_typer(users.app, name="users")
    root.add_typer(clients.app, name="clients")
    root.add_typer(courses.app, name="courses")
    root.add_typer(counters.app, name="counters")
    root.add_typer(progress.app, name="progress")
    root.add_typer(jobs.app, name="jobs")
