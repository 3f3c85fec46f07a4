"""How account commands report refusals: the API's own translated messages, one bad field per line, exit 1."""

import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import BaseModel, ValidationError

from app.commands.common import run_with_db
from app.core.db import Database
from app.core.errors import HocSoError, validation_errors
from app.core.i18n import Lang, negotiate, t

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def terminal_language() -> Lang:
    """Vietnamese unless the operator's locale is English (LANG=en_US.UTF-8 and the like)."""
    return negotiate(os.environ.get("LANG", "").split(".")[0].replace("_", "-"))


def validated(model: type[M], **values: object) -> M:
    """The command's input checked by the same schema (and rules) the API uses."""
    try:
        return model(**values)
    except ValidationError as exc:
        _fail(t("validation_failed"), validation_errors(list(exc.errors())))


def run_or_exit(fn: Callable[[Database], Awaitable[T]]) -> T:
    try:
        return run_with_db(fn)
    except HocSoError as exc:
        _fail(t(exc.code, **exc.params), [e.render() for e in exc.errors])


def _fail(detail: str, errors: list[dict]) -> None:
    typer.echo(detail, err=True)
    for error in errors:
        typer.echo(f"  {error.get('field', '-')}: {error['message']}", err=True)
    raise typer.Exit(1)
