"""`hocso users create-admin`, `hocso clients create` and the demo admin of `hocso demo seed`, run as an
operator would: through the CLI against a migrated database, with real commits."""

import json
import re
import stat

import anyio.to_thread
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from app.cli import app as hocso
from app.core.security import verify_secret
from app.models.identity import Role, ServiceClient, User

STRONG = "quan-tri-an-toan-2026"


@pytest.fixture
def cli_env(monkeypatch, operator_env, committed_db):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    return committed_db


async def invoke(*args: str, input: str | None = None) -> Result:
    # asyncio.run inside the command needs a thread without a running event loop.
    return await anyio.to_thread.run_sync(lambda: CliRunner().invoke(hocso, list(args), input=input))


async def find_user(db, email: str) -> User | None:
    async with db.session() as session:
        return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


# --- users create-admin -----------------------------------------------------------------------------------


async def test_create_admin_makes_an_admin_who_can_sign_in(cli_env):
    r = await invoke("users", "create-admin", "--email", "Bo.Truong@Example.VN", "--password", STRONG,
                     "--role", "ministry_admin")
    assert r.exit_code == 0, r.output
    user = await find_user(cli_env, "bo.truong@example.vn")
    assert user is not None and user.role == Role.ministry_admin and user.province_code is None
    assert verify_secret(STRONG, user.password_hash)


async def test_create_admin_asks_for_the_password_when_not_given(cli_env):
    r = await invoke("users", "create-admin", "--email", "noidung@example.vn", "--role", "content_admin",
                     input=f"{STRONG}\n{STRONG}\n")
    assert r.exit_code == 0, r.output
    assert STRONG not in r.output  # typed, not echoed
    user = await find_user(cli_env, "noidung@example.vn")
    assert user.role == Role.content_admin and verify_secret(STRONG, user.password_hash)


async def test_province_admin_needs_a_current_province(cli_env):
    args = ("users", "create-admin", "--email", "tinh@example.vn", "--password", STRONG,
            "--role", "province_admin")
    r = await invoke(*args)
    assert r.exit_code == 1 and "province_code: A province admin needs a province code." in r.output
    r = await invoke(*args, "--province", "02")  # Hà Giang, merged into Tuyên Quang in 2025
    assert r.exit_code == 1 and "02 is not a current province" in r.output
    r = await invoke(*args, "--province", "08")
    assert r.exit_code == 0, r.output
    assert (await find_user(cli_env, "tinh@example.vn")).province_code == "08"


async def test_create_admin_refuses_a_weak_password_and_a_taken_email(cli_env):
    r = await invoke("users", "create-admin", "--email", "a@example.vn", "--password", "12345678",
                     "--role", "ministry_admin")
    assert r.exit_code == 1 and "password: This password is too common" in r.output
    ok = ("users", "create-admin", "--email", "a@example.vn", "--password", STRONG,
          "--role", "ministry_admin")
    assert (await invoke(*ok)).exit_code == 0
    r = await invoke(*ok)
    assert r.exit_code == 1 and "email: This e-mail address is already used" in r.output


async def test_create_admin_refuses_a_learner_role(cli_env):
    r = await invoke("users", "create-admin", "--email", "x@example.vn", "--password", STRONG,
                     "--role", "learner")
    assert r.exit_code == 2  # not one of the offered choices
    assert await find_user(cli_env, "x@example.vn") is None


# --- clients create ---------------------------------------------------------------------------------------


async def test_clients_create_prints_credentials_as_json(cli_env):
    r = await invoke("clients", "create", "--name", "Cổng thống kê TP.HCM", "--scopes",
                     "stats:read, completions:read", "--province", "79")
    assert r.exit_code == 0, r.output
    printed = json.loads(r.stdout)
    assert set(printed) == {"client_id", "client_secret"}
    async with cli_env.session() as session:
        client = (await session.execute(
            select(ServiceClient).where(ServiceClient.client_id == printed["client_id"]))).scalar_one()
    assert client.scopes == ["completions:read", "stats:read"] and client.province_code == "79"
    assert printed["client_secret"] not in client.secret_hash
    assert verify_secret(printed["client_secret"], client.secret_hash)


async def test_clients_create_refuses_an_unknown_scope(cli_env):
    r = await invoke("clients", "create", "--name", "X", "--scopes", "stats:read,users:write")
    assert r.exit_code == 1 and "scopes.1: Must be one of" in r.output


# --- demo seed: the admin part ----------------------------------------------------------------------------


def printed_password(result: Result) -> str:
    return re.search(r"password: (\S+)", result.stdout).group(1)


async def test_demo_seed_creates_the_admin_once_and_prints_the_same_password(cli_env, settings):
    first = await invoke("demo", "seed")
    second = await invoke("demo", "seed")
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert "admin@demo.hocso.vn" in first.stdout
    assert printed_password(first) == printed_password(second)
    credentials = settings.data_dir / "demo-admin.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    async with cli_env.session() as session:
        admins = (await session.execute(select(func.count()).select_from(User)
                                        .where(User.email == "admin@demo.hocso.vn"))).scalar_one()
    assert admins == 1
    user = await find_user(cli_env, "admin@demo.hocso.vn")
    assert user.role == Role.ministry_admin and verify_secret(printed_password(first), user.password_hash)


async def test_demo_seed_resets_the_password_when_the_credentials_file_is_lost(cli_env, settings):
    first = await invoke("demo", "seed")
    (settings.data_dir / "demo-admin.json").unlink()
    second = await invoke("demo", "seed")
    assert second.exit_code == 0
    assert printed_password(second) != printed_password(first)
    user = await find_user(cli_env, "admin@demo.hocso.vn")
    assert verify_secret(printed_password(second), user.password_hash)
