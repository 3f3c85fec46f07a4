"""`hocso serve` hands its process to `python -m app.serve`, which runs uvicorn without the command line."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

import app.serve
from app.cli import app as hocso
from app.core.config import get_settings


class Exec(Exception):
    pass


@pytest.fixture
def fresh_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("HOCSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOCSO_PORT", "8123")
    monkeypatch.setenv("HOCSO_WORKERS", "3")
    get_settings.cache_clear()
    monkeypatch.setattr("app.cli._require_migrated_database", lambda: None)  # no database in these tests
    yield
    get_settings.cache_clear()


def test_hocso_serve_replaces_itself_with_the_server_module(monkeypatch, fresh_settings):
    calls = []

    def execv(path, argv):  # noqa: ANN001
        calls.append((path, argv))
        raise Exec

    monkeypatch.setattr("os.execv", execv)
    CliRunner().invoke(hocso, ["serve", "--workers", "2"])
    CliRunner().invoke(hocso, ["serve"])
    assert calls == [(sys.executable, [sys.executable, "-m", "app.serve", "--workers", "2"]),
                     (sys.executable, [sys.executable, "-m", "app.serve"])]


def test_hocso_serve_refuses_unsafe_production_settings_before_it_execs(monkeypatch, fresh_settings):
    monkeypatch.setenv("HOCSO_ENV", "production")
    monkeypatch.setattr("os.execv", lambda *_: pytest.fail("exec'd with unsafe settings"))
    result = CliRunner().invoke(hocso, ["serve"])
    assert result.exit_code != 0


def test_the_server_module_runs_the_app_factory_with_the_settings(monkeypatch, fresh_settings):
    seen = {}
    monkeypatch.setattr(app.serve.uvicorn, "run", lambda target, **options: seen.update(options, target=target))
    app.serve.main([])
    assert seen["target"] == "app.main:build" and seen["factory"] is True
    assert (seen["port"], seen["workers"], seen["log_config"]) == (8123, 3, None)
    app.serve.main(["--workers", "1"])
    assert seen["workers"] == 1


def test_the_server_process_loads_none_of_the_command_line(tmp_path):
    """What the worker's memory is spared: the server module and the app, built, without typer or the commands."""
    probe = ("import sys, app.serve, app.main; app.main.build(); "
             "print(sorted(m for m in ('typer', 'rich', 'pygments', 'alembic', 'app.cli', 'app.commands')"
             " if m in sys.modules))")
    env = {"HOCSO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True,
                         cwd=app.serve.__file__.rsplit("/app/", 1)[0])
    assert out.stdout.strip() == "[]"
