"""`hocso demo seed`: what `make run` shows a newcomer — a demo admin (credentials printed) and a sample course."""

import typer

app = typer.Typer(help="Demo data for the embedded default", no_args_is_help=True)


@app.command("seed")
def seed() -> None:
    """Create the demo admin and the sample course if missing, then print how to sign in."""
    typer.echo("demo data: nothing to seed yet")
