"""`hocso clients create`: credentials for ministry and province systems (OAuth2 client credentials)."""

import json
from typing import Annotated

import typer

from app.commands.feedback import run_or_exit, validated
from app.core.db import Database
from app.models.identity import ServiceClient, ServiceClientCreate
from app.services.identity import accounts as identity

app = typer.Typer(help="Service clients (systems that call the API)", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who the system belongs to, e.g. 'Cổng thống kê Bộ KH&CN'")],
    scopes: Annotated[str, typer.Option(
        help="Comma-separated: stats:read,completions:read,completions:write")],
    province: Annotated[str | None, typer.Option(help="Limit the client to one province code")] = None,
) -> None:
    """Create a client; print {"client_id", "client_secret"} as JSON (the secret is shown only this once)."""
    data = validated(ServiceClientCreate, name=name, province_code=province,
                     scopes=[s.strip() for s in scopes.split(",") if s.strip()])

    async def create_client(db: Database) -> tuple[ServiceClient, str]:
        async with db.session() as session:
            return await identity.create_service_client(session, data)

    client, secret = run_or_exit(create_client)
    typer.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))
