"""Conditional GETs for the public answers (catalogue, progress board): an `ETag` computed from the body, and
`304 Not Modified` with no body when the client's `If-None-Match` already holds it. The tag is the body's own
hash, so any change in what the answer says changes it and no version has to be tracked anywhere."""

import hashlib

from fastapi import Request, Response

# Describes the 304 in the OpenAPI document of every route that answers conditionally.
NOT_MODIFIED = {304: {"description": "Not modified (If-None-Match)"}}


def body_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(etag: str, if_none_match: str | None) -> bool:
    """Whether `If-None-Match` names the tag (weak comparison, as RFC 9110 asks for GET) or is `*`."""
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


def conditional(request: Request, response: Response) -> Response:
    """The response with its ETag, or a bodiless 304 keeping its caching headers when the client holds it."""
    etag = body_etag(response.body)
    response.headers["ETag"] = etag
    if not not_modified(etag, request.headers.get("if-none-match")):
        return response
    kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return Response(status_code=304, headers=kept)
