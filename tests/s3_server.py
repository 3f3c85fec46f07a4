"""A moto S3 server on a loopback port, started once per test session, so S3Storage is tested over real HTTP.

Import the fixtures into a conftest or test module: `from tests.s3_server import s3_endpoint, s3_settings`.

moto itself accepts any request: unsigned, signed with a wrong secret, or a presigned URL long expired (its own
IAM checks read only the Authorization header, so they cannot judge presigned URLs). A real store refuses all
three, so the server checks every request's AWS Signature Version 4 first — the Authorization header or the
presigned query — against the one key pair below, and the expiry of presigned URLs, answering 403 with S3's
error codes otherwise. The signature is recomputed with botocore's own S3 signers.
"""

import hmac
import threading
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from app.core.config import Settings

ACCESS_KEY_ID, SECRET_ACCESS_KEY = "hocso-test-key", "hocso-test-secret"
MAX_CLOCK_SKEW = timedelta(minutes=15)  # S3 refuses a signed request dated further from its clock
SIGV4_TIME = "%Y%m%dT%H%M%SZ"


class SignatureRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _fields(text: str) -> dict[str, str]:
    """`Credential=…, SignedHeaders=…, Signature=…` of an Authorization header."""
    return dict(part.strip().partition("=")[::2] for part in text.split(","))


def _signed_at(stamp: str, now: datetime) -> datetime:
    try:
        signed = datetime.strptime(stamp, SIGV4_TIME).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRefused("AccessDenied", "X-Amz-Date is not a SigV4 time") from None
    if signed - now > MAX_CLOCK_SKEW:
        raise SignatureRefused("RequestTimeTooSkewed", "signed in the future")
    return signed


def check_signature(method: str, raw_uri: str, headers: dict[str, str], now: datetime) -> None:
    """Raise SignatureRefused unless the request is signed (SigV4, header or presigned query) by our key pair,
    within its validity."""
    path, _, query = raw_uri.partition("?")
    pairs = [pair.partition("=")[::2] for pair in query.split("&") if pair]
    params = {unquote(key): unquote(value) for key, value in pairs}
    if "authorization" in headers:
        algorithm, _, rest = headers["authorization"].partition(" ")
        fields = _fields(rest)
        stamp = headers.get("x-amz-date", "")
        signer, presigned = S3SigV4Auth, False
        if _signed_at(stamp, now) < now - MAX_CLOCK_SKEW:
            raise SignatureRefused("RequestTimeTooSkewed", "signed too long ago")
    elif "X-Amz-Signature" in params:
        algorithm = params.get("X-Amz-Algorithm", "")
        fields = {"Credential": params.get("X-Amz-Credential", ""), "Signature": params["X-Amz-Signature"],
                  "SignedHeaders": params.get("X-Amz-SignedHeaders", "")}
        stamp = params.get("X-Amz-Date", "")
        signer, presigned = S3SigV4QueryAuth, True
        try:
            expires = timedelta(seconds=int(params.get("X-Amz-Expires", "")))
        except ValueError:
            raise SignatureRefused("AuthorizationQueryParametersError", "X-Amz-Expires is missing") from None
        if _signed_at(stamp, now) + expires < now:
            raise SignatureRefused("AccessDenied", "Request has expired")
        # The signature covers the query without itself.
        query = "&".join(f"{key}={value}" for key, value in pairs if key != "X-Amz-Signature")
    else:
        raise SignatureRefused("AccessDenied", "the request is not signed")
    if algorithm != "AWS4-HMAC-SHA256":
        raise SignatureRefused("AccessDenied", "only AWS4-HMAC-SHA256 is accepted")
    key_id, _, scope = fields.get("Credential", "").partition("/")
    day, region, service, terminal = (scope.split("/") + ["", "", "", ""])[:4]
    if key_id != ACCESS_KEY_ID:
        raise SignatureRefused("InvalidAccessKeyId", "unknown access key")
    if day != stamp[:8] or terminal != "aws4_request":
        raise SignatureRefused("AuthorizationHeaderMalformed", "credential scope does not match X-Amz-Date")
    signed_names = [name for name in fields.get("SignedHeaders", "").split(";") if name]
    if "host" not in signed_names:
        raise SignatureRefused("AccessDenied", "the host header is not signed")
    request = AWSRequest(method=method, url=f"http://{headers.get('host', '')}{path}" + (f"?{query}" if query
                                                                                        else ""),
                         headers={name: headers.get(name, "") for name in signed_names})
    request.context["timestamp"] = stamp
    auth = signer(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), service, region)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        raise SignatureRefused("SignatureDoesNotMatch", "the signature does not match" +
                               (" (presigned URL)" if presigned else ""))


class SignedRequestsOnly:
    """WSGI middleware in front of moto: a request moto sees has passed `check_signature`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        try:
            check_signature(environ["REQUEST_METHOD"], raw_uri, _headers(environ), datetime.now(UTC))
        except SignatureRefused as refused:
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{refused.code}</Code>'
                    f"<Message>{refused}</Message></Error>").encode()
            start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                             ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


class SigningS3Server:
    """moto's S3 behind SignedRequestsOnly, served by werkzeug on a loopback port in a thread."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self.gate = SignedRequestsOnly(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", 0, self.gate, threaded=True, request_handler=MotoRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "SigningS3Server":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with SigningS3Server() as server:
        yield server.endpoint


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    """The test settings switched to S3, with a bucket of this test's own."""
    return settings.model_copy(update={
        "storage": "s3", "s3_endpoint_url": s3_endpoint, "s3_bucket": f"t-{uuid.uuid4().hex[:12]}",
        "s3_access_key_id": ACCESS_KEY_ID, "s3_secret_access_key": SECRET_ACCESS_KEY, "s3_path_style": True,
        "s3_multipart_threshold": 5 * 1024 * 1024, "s3_part_size": 5 * 1024 * 1024,
    })
