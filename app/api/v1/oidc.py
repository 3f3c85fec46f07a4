"""Sign-in with OpenID Connect providers (the national e-ID gateway first): start, the provider's callback,
and the front end's exchange of the one-time handoff code for HocSo's tokens."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from app.api.deps import KeysDep, SettingsDep, caller_address, get_current_user_id, oauth2
from app.api.problems import problem
from app.api.v1 import v1_router
from app.api.v1.auth import TokenSession, no_store
from app.core.errors import Forbidden
from app.models.identity import TokenPair, User
from app.models.verification import IdentityProviderPublic, OidcExchange, OidcStart, OidcStarted
from app.services.identity import oidc_flow
from app.services.identity.oidc import Providers

# Transaction exception «sign-in refusals commit» (docs/architecture.md): counted tries and used-up answers.
router = v1_router("/auth/oidc", tags=["auth"])


async def get_providers(request: Request) -> Providers:
    return request.app.state.per_worker.oidc


ProvidersDep = Annotated[Providers, Depends(get_providers)]


async def optional_user_id(request: Request, keys: KeysDep, settings: SettingsDep,
                           token: Annotated[str | None, Depends(oauth2)]) -> uuid.UUID | None:
    """The signed-in user's id when a bearer token is sent (linking), else None."""
    return await get_current_user_id(keys, settings, token) if token else None


@router.get("/providers", response_model=list[IdentityProviderPublic], summary="Identity providers to sign in with")
async def list_providers(settings: SettingsDep) -> list[IdentityProviderPublic]:
    """The configured providers, in the order a sign-in page shows them."""
    return [IdentityProviderPublic(name=p.name, title=p.title or p.name, assurance=p.assurance)
            for p in settings.oidc_providers]


@router.post(
    "/{provider}/start", response_model=OidcStarted, summary="Start signing in with a provider",
    responses={404: problem("No such provider"),
               422: problem("Return address not allowed, or linking not confirmed"),
               429: problem("Too many wrong passwords for this account (the sign-in lock)"),
               503: problem("The provider cannot be reached; password and phone-code sign-in still "
                                    "work")},
)
async def start(provider: str, body: OidcStart, request: Request, response: Response, session: TokenSession,
                settings: SettingsDep, providers: ProvidersDep,
                user_id: Annotated[uuid.UUID | None, Depends(optional_user_id)]) -> OidcStarted:
    """Send the browser to `authorization_url`. It comes back to `return_to#code=…`; post that code with the
    verifier of `handoff_challenge` to `/api/v1/auth/oidc/token`.
    With a bearer token, the sign-in links the e-ID to that account: send its `password` or a `phone_code`.
    A wrong password counts as a failed sign-in of the account and meets the same lock (429, Retry-After)."""
    no_store(response)
    link_user = None
    if user_id is not None:
        link_user = await session.get(User, user_id)
        if link_user is None or not link_user.is_active:
            raise Forbidden("account_disabled")
    return await oidc_flow.start(session, settings, providers, provider, body, client_ip=caller_address(request),
                                 link_user=link_user)


@router.get(
    "/{provider}/callback", status_code=status.HTTP_303_SEE_OTHER, summary="Where the provider sends the browser back",
    responses={303: {"description": "On to `return_to#code=…`"},
               400: problem("Forged, replayed or expired answer; invalid ID token"),
               409: problem("The e-ID belongs to another account"),
               503: problem("The provider cannot be reached")},
)
async def callback(provider: str, session: TokenSession, settings: SettingsDep, providers: ProvidersDep,
                   code: Annotated[str | None, Query(max_length=2000)] = None,
                   state: Annotated[str | None, Query(max_length=200)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None) -> RedirectResponse:
    """Checks the answer (state once, the code redeemed with PKCE, the ID token's signature and claims) and
    signs the person in to their one account."""
    target = await oidc_flow.callback(session, settings, providers, provider, state=state, code=code, error=error)
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.post(
    "/token", response_model=TokenPair, response_model_exclude_none=True,
    summary="Exchange the one-time handoff code for HocSo tokens",
    responses={400: problem("Unknown, used or expired code, or wrong verifier")},
)
async def exchange(body: OidcExchange, response: Response, session: TokenSession, settings: SettingsDep,
                   keys: KeysDep) -> TokenPair:
    """The code from `return_to#code=…` and the verifier whose S256 was `handoff_challenge`; works once."""
    no_store(response)
    return await oidc_flow.exchange(session, settings, keys, body)
