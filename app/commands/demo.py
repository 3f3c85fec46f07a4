"""`hocso demo seed`: what `make run` shows a newcomer: a demo admin (credentials printed) and a course."""

import typer

from app.commands.common import run_with_db
from app.commands.courses import seed_sample_course
from app.core.config import get_settings
from app.core.db import Database
from app.core.i18n import messages, t
from app.services.identity import accounts as identity

app = typer.Typer(help="Demo data for the embedded default", no_args_is_help=True)
messages({
    "cli_demo_production": ("Không tạo dữ liệu mẫu khi HOCSO_ENV=production.",
                            "Refusing to seed demo data with HOCSO_ENV=production."),
    "cli_demo_admin": ("Quản trị viên Bộ (mẫu): đăng nhập tại {docs}, nút Authorize:",
                       "Demo ministry admin (sign in at {docs}, Authorize):"),
    "cli_demo_username": ("  tên đăng nhập (username): {email}", "  username: {email}"),
    "cli_demo_password": ("  mật khẩu (password): {password}", "  password: {password}"),
})


@app.command("seed")
def seed() -> None:
    """Create the demo admin and the sample course if missing, then print how to sign in."""
    settings = get_settings()
    if settings.env == "production":
        typer.echo(t("cli_demo_production"), err=True)
        raise typer.Exit(1)

    async def seed_all(db: Database) -> identity.DemoAdmin:
        # --- Demo administrator: created once; its random password lives in <data_dir>/demo-admin.json ---
        credentials_file = settings.data_dir / "demo-admin.json"
        async with db.session() as session:
            admin, credentials = await identity.ensure_demo_admin(session, credentials_file)

        # --- Sample course (content): import and publish examples/ as `admin` ---
        typer.echo(await seed_sample_course(db, admin.id))

        return credentials

    credentials = run_with_db(seed_all)
    typer.echo(t("cli_demo_admin", docs=f"{settings.public_base_url}/docs"))
    typer.echo(t("cli_demo_username", email=credentials.email))
    typer.echo(t("cli_demo_password", password=credentials.password))
