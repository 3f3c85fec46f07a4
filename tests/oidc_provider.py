"""A mock OpenID provider the test suite serves on loopback (tests/browser.py `live_server`): discovery, JWKS,
authorize and token endpoints, with real RS256-signed ID tokens, PKCE checked and codes good once.

Tests choose who signs in (`provider.person`) and how the provider misbehaves (`provider.tamper`: a wrong
audience or issuer, an expired token, `alg: none`, an unknown `kid`, a signature by another key, a wrong
nonce, a lower `acr` than asked) and can take it down (`provider.down`).

Usage:
    async with mock_provider() as provider:
        settings.oidc_providers = [provider.config()]
"""

import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.core.config import OidcProvider
from tests.browser import live_server

CLIENT_ID, CLIENT_SECRET = "hocso-test", "provider-secret-" + "x" * 20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Person:
    sub: str = "vneid-sub-0001"
    national_id: str = "001099012345"
    name: str = "Nguyễn Văn Dân"
    birthdate: str = "1999-05-17"


@dataclass
class MockProvider:
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "mock-1"}))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "mock-1"}))
    person: Person = field(default_factory=Person)
    tamper: str | None = None
    down: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def config(self, **overrides: Any) -> OidcProvider:
        values = dict(name="vneid", title="VNeID (mock)",
                      discovery_url=f"{self.issuer}/.well-known/openid-configuration",
                      client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=["openid", "profile"],
                      national_id_claim="national_id", name_claim="name", birth_date_claim="birthdate",
                      assurance="eid", acr_values="loa2")
        return OidcProvider(**(values | overrides))

    def id_token(self, *, nonce: str, access_token: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.person.sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": nonce, "name": self.person.name, "birthdate": self.person.birthdate,
                  "national_id": self.person.national_id, "acr": "loa2",
                  "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16])}
        header = {"alg": "RS256", "kid": "mock-1"}
        key = self.key
        match self.tamper:
            case "wrong_aud":
                claims["aud"] = "someone-else"
            case "wrong_iss":
                claims["iss"] = "https://evil.example"
            case "expired":
                claims["iat"], claims["exp"] = now - 3600, now - 1800
            case "low_acr":
                claims["acr"] = "loa1"
            case "wrong_nonce":
                claims["nonce"] = "not-the-nonce"
            case "unknown_kid":
                header["kid"] = "mock-unknown"
            case "other_key":
                key = self.other_key
            case "alg_none":
                unsigned = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
                return f"{unsigned}.{_b64(json.dumps(claims).encode())}."
        return jwt.encode(header, claims, key, algorithms=["RS256"])

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def outage(request: Request, call_next):  # noqa: ANN001, ANN202
            if self.down:
                return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
            return await call_next(request)

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict:
            return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

        @app.get("/jwks")
        async def jwks() -> dict:
            return {"keys": [self.key.as_dict(private=False) | {"use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> Any:
            q = request.query_params
            if (q.get("client_id") != CLIENT_ID or q.get("response_type") != "code"
                    or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")
                    or not q.get("state") or not q.get("nonce")):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"],
                                "redirect_uri": q["redirect_uri"], "scope": q.get("scope"),
                                "acr_values": q.get("acr_values"), "used": False}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}",
                                    status_code=302)

        @app.post("/token")
        async def token(request: Request, grant_type: str = Form(), code: str = Form(),
                        redirect_uri: str = Form(), code_verifier: str = Form()) -> Any:
            self.token_requests += 1
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.get(code)
            if (grant_type != "authorization_code" or grant is None or grant["used"]
                    or grant["redirect_uri"] != redirect_uri
                    or _b64(hashlib.sha256(code_verifier.encode()).digest()) != grant["challenge"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            grant["used"] = True
            access_token = secrets.token_urlsafe(24)
            return {"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                    "id_token": self.id_token(nonce=grant["nonce"], access_token=access_token)}

        return app


@asynccontextmanager
async def mock_provider() -> AsyncIterator[MockProvider]:
    provider = MockProvider()
    async with live_server(provider.app()) as url:
        provider.issuer = url
        yield provider
