"""The refusals every route shares, declared in the OpenAPI document once, from what really produces them.

Routes declare only their own refusals (`responses={404: problem(…)}`); these come from layers the route does not
see, so they are added here by reading each route's dependencies and body (issue 18, item 13):

- a bearer token read (`deps.oauth2`, behind `get_principal` and `get_current_user_id`) → 401 (missing,
  invalid, expired, deactivated) and 403 (a service token where a person is needed, a role or scope the caller
  lacks, a province admin without a province);
- the per-address limits (`get_rate_limits`) → 429 with Retry-After;
- the request's session, the database or the object store → 503 with Retry-After, as `app.core.middleware`
  answers an outage;
- a name or id in the path (a string parameter: a course, lesson, attempt, media key…) → 404, since every such
  route looks it up; integer path parameters (a programme's year) name something made on first use;
- a JSON or form body, bounded and timed by `app.core.edge.EdgeGuard` → 408, 413 and 422, and 400 when the
  bytes cannot be decoded at all (FastAPI's own answer to a body that is not UTF-8);
- every operation → 431 (headers too large) and 422 (a control character in the path or query), also the edge.

A route's own entry for a status is kept (its description is more precise); only its content is not touched.
"""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.api import deps
from app.api.problems import problem

_TOKEN = {deps.oauth2}  # every reader of the bearer token, optional ones (e-ID linking) included
_OUTAGE = {deps.get_unit_of_work, deps.get_database, deps.get_storage}
_LIMITED = {deps.get_rate_limits}
_BOUNDED_BODIES = ("application/json", "application/x-www-form-urlencoded")

SIGNED_IN = {
    "401": problem("No bearer token, or one that is invalid, expired or no longer active"),
    "403": problem("The caller may not do this: a role or scope it lacks, or a service token where a person is "
                   "needed"),
}
LIMITED = {"429": problem("Too many requests from this address or for this account; see Retry-After")}
OUTAGE = {"503": problem("The database or file storage is unavailable for the moment; see Retry-After")}
LOOKED_UP = {"404": problem("Nothing by that name or id in the path, or nothing the caller may see")}
BOUNDED_BODY = {
    "400": problem("The body cannot be decoded (not UTF-8)"),
    "408": problem("The body took longer than HOCSO_BODY_TIMEOUT_S to arrive"),
    "413": problem("The body is larger than HOCSO_JSON_BODY_MAX_BYTES"),
    "422": problem("The body, a parameter or a field fails validation (`errors` names each)"),
}
EVERY_OPERATION = {
    "422": problem("A parameter fails validation, or the path or query holds a control character"),
    "431": problem("The request headers are larger than HOCSO_HEADER_MAX_BYTES"),
}


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    """Every callable the route depends on, however deep."""
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


def _looks_up(operation: dict[str, Any]) -> bool:
    return any(parameter.get("in") == "path" and parameter.get("schema", {}).get("type") == "string"
               for parameter in operation.get("parameters", []))


def shared_answers(calls: set[Callable[..., Any]], operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The refusals an operation whose route has these dependencies can meet outside its own code."""
    answers: dict[str, dict[str, Any]] = dict(EVERY_OPERATION)
    if _looks_up(operation):
        answers |= LOOKED_UP
    if calls & _OUTAGE:
        answers |= OUTAGE
    if calls & _TOKEN:
        answers |= SIGNED_IN
    if calls & _LIMITED:
        answers |= LIMITED
    if any(kind in _BOUNDED_BODIES for kind in operation.get("requestBody", {}).get("content", {})):
        answers |= BOUNDED_BODY
    return answers


def declare_shared_answers(document: dict[str, Any], routes: Iterable[Any]) -> None:
    """Add the shared refusals to every operation of `document` that a route in `routes` describes."""
    paths = document.get("paths", {})
    # Included routers are kept as such (FastAPI ≥ 0.165): their routes, with prefixes applied, come from here.
    for route in iter_route_contexts(list(routes)):
        if (not isinstance(route.original_route, APIRoute) or not route.include_in_schema
                or route.path_format not in paths):
            continue
        calls = _calls(route.dependant)
        for method in route.methods:
            operation = paths[route.path_format].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, answer in shared_answers(calls, operation).items():
                responses.setdefault(status, answer)


def install_shared_answers(app: FastAPI) -> None:
    """Declare the shared refusals when the document is first built (before `install_problem_schema` runs)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            declare_shared_answers(build(), app.routes)
        return app.openapi_schema

    app.openapi = openapi
