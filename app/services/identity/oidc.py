"""The OpenID Connect relying party: provider metadata and keys, the authorization request, the code exchange
and the ID token's checks. Built on authlib (PKCE, client authentication, the ID token's claim rules) and
joserfc, the JOSE library authlib itself uses; HocSo's own tokens stay with python-jose (core/security.py).

An ID token is accepted only when its signature verifies against the provider's published keys (JWKS, the key
picked by `kid`, refreshed once when an unknown `kid` appears) with one of the provider's pinned algorithms
(never `none`, never a symmetric one), and its issuer, audience, expiry, issue time and nonce are right. When
the provider is asked for `acr_values`, the token's `acr` must be one of the accepted levels.

Per process, `Providers` keeps each provider's metadata (discovery, re-read hourly) and keys, and one HTTP
client; a provider that cannot be reached is a 503 problem, and nothing else in HocSo depends on it.
"""

import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authlib.integrations.base_client import OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.core.config import OidcProvider, Settings
from app.core.errors import BadRequest, FieldError, NotFound, ServiceUnavailable
from app.core.i18n import messages

if TYPE_CHECKING:
    import httpx
    from authlib.integrations.httpx_client import AsyncOAuth2Client


# httpx (and authlib's client on it) is imported when a provider is first used, not with the app: importing httpx
# loads its command line's `rich` and `pygments` too, which the API worker otherwise never carries
# (tests/test_serve.py).
def _httpx():  # noqa: ANN202
    import httpx

    return httpx


def _oauth_client_class() -> "type[AsyncOAuth2Client]":
    with warnings.catch_warnings():
        # authlib 1.9 prefers the `httpx2` package and warns when it runs on httpx, which HocSo already uses and
        # which authlib still supports (pinned below 2 in pyproject.toml).
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import AsyncOAuth2Client
    return AsyncOAuth2Client

METADATA_TTL_S = 3600
KEYS_REFRESH_MIN_S = 60  # an unknown kid refetches the JWKS at most this often (rotation, not a flood)
LEEWAY_S = 60  # clock difference tolerated on exp / iat
RETRY_AFTER_S = 30  # what a 503 suggests: an overloaded gateway is not worth hammering every second

messages({
    "oidc_provider_unknown": ("Không có nhà cung cấp định danh {provider}.",
                              "There is no identity provider {provider}."),
    "oidc_provider_unavailable": (
        "Hệ thống định danh {provider} đang không phản hồi. Vui lòng thử lại sau hoặc đăng nhập bằng mật khẩu "
        "hay mã gửi qua điện thoại.",
        "The identity provider {provider} is not answering. Try again later, or sign in with a password or a "
        "code sent to your phone."),
    "oidc_id_token_invalid": ("Phản hồi đăng nhập từ {provider} không hợp lệ ({reason}).",
                              "The sign-in answer from {provider} is not valid ({reason})."),
    "oidc_acr_insufficient": (
        "{provider} chỉ xác thực ở mức bảo đảm {acr}, thấp hơn mức yêu cầu ({accepted}); vui lòng đăng nhập lại "
        "ở mức cao hơn.",
        "{provider} only authenticated at assurance level {acr}, below what is required ({accepted}); please "
        "sign in again at a higher level."),
    "oidc_code_rejected": ("{provider} từ chối mã xác thực (mã đã dùng hoặc hết hạn).",
                           "{provider} refused the authorization code (already used or expired)."),
})


class SignInAnswerInvalid(BadRequest):
    """A forged, replayed or broken answer: the sign-in it names is used up (kept) before the 400 goes out."""

    keeps_changes = True


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a checked ID token says about the person."""

    provider: str
    subject: str
    claims: dict[str, Any]


@dataclass
class _Cached:
    metadata: Metadata | None = None
    metadata_at: float = 0.0
    keys: KeySet | None = None
    keys_at: float = 0.0


@dataclass
class Providers:
    """The configured providers, with what has been fetched from them (one per process, built in the lifespan)."""

    settings: Settings
    transport: "httpx.AsyncBaseTransport | None" = None  # tests only
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _http: "httpx.AsyncClient | None" = None

    def get(self, name: str) -> OidcProvider:
        provider = self.settings.oidc_provider(name)
        if provider is None:
            raise NotFound("oidc_provider_unknown", provider=name)
        return provider

    @property
    def http(self) -> "httpx.AsyncClient":
        if self._http is None:
            self._http = _httpx().AsyncClient(timeout=self.settings.oidc_http_timeout_s, transport=self.transport)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def _get_json(self, provider: OidcProvider, url: str) -> dict[str, Any]:
        try:
            answer = await self.http.get(url)
            answer.raise_for_status()
            data = answer.json()
        except (_httpx().HTTPError, ValueError):
            raise _unavailable(provider.title or provider.name) from None
        if not isinstance(data, dict):
            raise _unavailable(provider.title or provider.name)
        return data

    async def metadata(self, provider: OidcProvider) -> Metadata:
        cached = self._cache.setdefault(provider.name, _Cached())
        if cached.metadata is not None and time.monotonic() - cached.metadata_at < METADATA_TTL_S:
            return cached.metadata
        found: dict[str, Any] = {}
        if provider.discovery_url:
            found = await self._get_json(provider, provider.discovery_url)
        values = {name: getattr(provider, name) or found.get(name)
                  for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")}
        if not all(isinstance(v, str) and v for v in values.values()):
            raise _unavailable(provider.title or provider.name)
        cached.metadata, cached.metadata_at = Metadata(**values), time.monotonic()
        return cached.metadata

    async def keys(self, provider: OidcProvider, *, refresh: bool = False) -> KeySet:
        cached = self._cache.setdefault(provider.name, _Cached())
        stale = time.monotonic() - cached.keys_at >= KEYS_REFRESH_MIN_S
        if cached.keys is None or (refresh and stale):
            jwks = await self._get_json(provider, (await self.metadata(provider)).jwks_uri)
            try:
                cached.keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise _unavailable(provider.title or provider.name) from None
            cached.keys_at = time.monotonic()
        return cached.keys

    def client(self, provider: OidcProvider, redirect_uri: str) -> "AsyncOAuth2Client":
        return _oauth_client_class()(
            client_id=provider.client_id, client_secret=provider.client_secret, scope=" ".join(provider.scopes),
            redirect_uri=redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method=provider.token_auth_method, timeout=self.settings.oidc_http_timeout_s,
            transport=self.transport)


async def authorization_url(providers: Providers, provider: OidcProvider, *, redirect_uri: str, state: str,
                            nonce: str, code_verifier: str) -> str:
    """The provider's authorization URL: code flow with PKCE (S256), `state`, `nonce` and any `acr_values`."""
    metadata = await providers.metadata(provider)
    extra = {"acr_values": provider.acr_values} if provider.acr_values else {}
    async with providers.client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(metadata.authorization_endpoint, state=state,
                                                 code_verifier=code_verifier, nonce=nonce, **extra)
    return url


async def redeem_code(providers: Providers, provider: OidcProvider, *, redirect_uri: str, code: str,
                      code_verifier: str, nonce: str) -> VerifiedIdentity:
    """Exchange the authorization code (with the PKCE verifier) and check the ID token that comes back."""
    metadata = await providers.metadata(provider)
    name = provider.title or provider.name
    httpx = _httpx()
    try:
        async with providers.client(provider, redirect_uri) as client:
            token = await client.fetch_token(metadata.token_endpoint, code=code, code_verifier=code_verifier,
                                             grant_type="authorization_code")
    except OAuthError:
        raise SignInAnswerInvalid("oidc_code_rejected", provider=name) from None
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code < 500:
            raise SignInAnswerInvalid("oidc_code_rejected", provider=name) from None
        raise _unavailable(name) from None
    except (httpx.HTTPError, ValueError):
        raise _unavailable(name) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise _invalid(name, "no id_token")
    claims = await check_id_token(providers, provider, metadata, id_token, nonce=nonce,
                                  access_token=token.get("access_token"))
    return VerifiedIdentity(provider=provider.name, subject=str(claims["sub"]), claims=claims)


async def check_id_token(providers: Providers, provider: OidcProvider, metadata: Metadata, id_token: str, *,
                         nonce: str, access_token: str | None = None) -> dict[str, Any]:
    """Signature (pinned algorithms, key by `kid` from the JWKS), then iss, aud, azp, exp, iat, nonce, at_hash."""
    name = provider.title or provider.name
    try:
        try:
            decoded = jwt.decode(id_token, await providers.keys(provider), algorithms=provider.algorithms)
        except InvalidKeyIdError:  # the provider may have rotated its keys since they were read
            decoded = jwt.decode(id_token, await providers.keys(provider, refresh=True),
                                 algorithms=provider.algorithms)
    except InvalidKeyIdError:
        raise _invalid(name, "unknown kid") from None
    except JoseError as exc:
        raise _invalid(name, exc.error or type(exc).__name__) from None
    except ValueError:
        raise _invalid(name, "malformed") from None
    options = {"iss": {"essential": True, "value": metadata.issuer},
               "aud": {"essential": True, "value": provider.client_id},
               "sub": {"essential": True}}
    params = {"nonce": nonce, "client_id": provider.client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    try:
        claims.validate(leeway=LEEWAY_S)
    except JoseError as exc:
        raise _invalid(name, exc.description or exc.error or type(exc).__name__) from None
    if "nonce" not in claims:  # we always send one, so it must come back
        raise _invalid(name, "missing nonce")
    # A provider may sign someone in at a lower level than asked (RFC: acr_values is only a request), so the
    # answer's level is checked before the account is trusted at the provider's assurance.
    if provider.acr_values and claims.get("acr") not in provider.accepted_acr:
        acr, accepted = str(claims.get("acr") or "-")[:40], ", ".join(provider.accepted_acr)
        raise SignInAnswerInvalid("oidc_acr_insufficient", provider=name, acr=acr, accepted=accepted,
                                  errors=[FieldError("oidc_acr_insufficient", field="acr", provider=name, acr=acr,
                                                     accepted=accepted)])
    return dict(claims)


def _unavailable(provider: str) -> ServiceUnavailable:
    """Every "provider down" answer, from discovery to the code exchange, tells the front end when to retry."""
    return ServiceUnavailable("oidc_provider_unavailable", provider=provider,
                              headers={"Retry-After": str(RETRY_AFTER_S)})


def _invalid(provider: str, reason: str) -> SignInAnswerInvalid:
    return SignInAnswerInvalid("oidc_id_token_invalid", provider=provider, reason=reason,
                               errors=[FieldError("oidc_id_token_invalid", field="id_token", provider=provider,
                                                  reason=reason)])
