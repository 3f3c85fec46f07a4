"""The one description of an error answer in the OpenAPI document: RFC 9457 problem+json, as
`app.core.errors.problem` writes it. Routers declare their refusals with `problem("…")`."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field


class ProblemField(BaseModel):
    """One bad field, file or CSV row."""

    field: str | None = None
    file: str | None = None
    line: int | None = None
    row: int | None = None
    message: str


class Problem(BaseModel):
    """An error, in the reader's language (Vietnamese by default, English with `Accept-Language: en`)."""

    type: str = Field(examples=["/problems/validation-failed"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["Dữ liệu gửi lên không hợp lệ."])
    instance: str = Field(examples=["/api/v1/auth/register"])
    request_id: str | None = None
    errors: list[ProblemField] | None = None


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}}


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response entry: `responses={404: problem("No such lesson")}`."""
    return {"description": description, **PROBLEM}


def html_page(description: str) -> dict[str, Any]:
    """A refusal that an HTML page (the QR code's verification page) shows as a page, not as problem+json."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def install_problem_schema(app: FastAPI) -> None:
    """Put `Problem` (and `ProblemField`) in the document's components, where every `problem()` points, and
    describe FastAPI's automatic 422 as what `app.core.errors` really sends: a problem with `errors`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(defs.pop("$defs", {}))
            schemas["Problem"] = defs
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    invalid = operation.get("responses", {}).get("422")
                    if invalid is not None:
                        invalid["content"] = PROBLEM["content"]
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
        return app.openapi_schema

    app.openapi = openapi
