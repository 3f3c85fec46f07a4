"""`hocso users create-admin`: administrators are created by an operator, never through the API."""

from enum import StrEnum
from typing import Annotated

import typer

from app.commands.feedback import run_or_exit, validated
from app.core.db import Database
from app.core.i18n import messages, t
from app.models.identity import AdminAccount, User
from app.services.identity import accounts as identity

app = typer.Typer(help="User accounts", no_args_is_help=True)


class AdminRole(StrEnum):
    ministry_admin = "ministry_admin"
    content_admin = "content_admin"
    province_admin = "province_admin"

messages({
    "cli_admin_created": ("Đã tạo {role}: {email} (id {id}).", "Created {role}: {email} (id {id})."),
    "cli_admin_created_in_province": ("Đã tạo {role} của tỉnh {province}: {email} (id {id}).",
                                      "Created {role} of province {province}: {email} (id {id})."),
})

@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="Sign-in e-mail of the new administrator")],
    role: Annotated[AdminRole, typer.Option(help="What the administrator manages")],
    password: Annotated[str, typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True,
        help="At least 8 characters, not a common one; omit it to be asked (keeps it out of shell history)",
    )],
    province: Annotated[str | None, typer.Option(help="Province code; required for province_admin")] = None,
    name: Annotated[str, typer.Option(help="Full name")] = "Quản trị viên",
) -> None:
    """Create an administrator who signs in with EMAIL and PASSWORD."""
    account = validated(AdminAccount, email=email, password=password, role=role.value,
                        province_code=province, full_name=name)

    async def create(db: Database) -> User:
        async with db.session() as session:
            return await identity.create_admin(session, account)

    user = run_or_exit(create)
    typer.echo(t("cli_admin_created_in_province" if user.province_code else "cli_admin_created",
                 role=user.role, province=user.province_code, email=user.email, id=user.id))
