"""Taking access away: deactivate or reactivate accounts and service clients, rotate a client's secret."""

import uuid

from fastapi import Path

from app.api.deps import ClientStatusDep, MinistryAdmin, SessionDep, UserAdmin
from app.api.problems import problem
from app.api.v1 import v1_router
from app.models.identity import ServiceClient, ServiceClientSecret, ServiceClientView, UserAdminView
from app.services.identity import access

router = v1_router("/admin", tags=["users"])

USER_ERRORS = {401: problem("Missing or invalid token"), 403: problem("Not a user admin"),
               404: problem("No such user in your scope")}
CLIENT_ERRORS = {401: problem("Missing or invalid token"), 403: problem("Not a ministry admin"),
                 404: problem("No such client")}
ClientId = Path(min_length=1, max_length=64)


def _view(client: ServiceClient) -> ServiceClientView:
    return ServiceClientView(client_id=client.client_id, name=client.name, scopes=client.scopes,
                             province_code=client.province_code, is_active=client.is_active)


@router.post("/users/{user_id}/deactivate", response_model=UserAdminView, summary="Deactivate an account",
             responses={**USER_ERRORS, 409: problem("Your own account")})
async def deactivate_user(user_id: uuid.UUID, admin: UserAdmin, session: SessionDep) -> UserAdminView:
    """The account's access tokens stop working at once and its refresh tokens are revoked. Ministry admins:
    any account but their own; province admins: learners of their province."""
    return UserAdminView.of(await access.set_user_active(session, admin, user_id, active=False))


@router.post("/users/{user_id}/activate", response_model=UserAdminView, summary="Reactivate an account",
             responses={**USER_ERRORS, 409: problem("Your own account")})
async def activate_user(user_id: uuid.UUID, admin: UserAdmin, session: SessionDep) -> UserAdminView:
    return UserAdminView.of(await access.set_user_active(session, admin, user_id, active=True))


@router.post("/clients/{client_id}/deactivate", response_model=ServiceClientView,
             summary="Deactivate a service client (ministry admins)", responses=CLIENT_ERRORS)
async def deactivate_client(admin: MinistryAdmin, session: SessionDep, statuses: ClientStatusDep,
                            client_id: str = ClientId) -> ServiceClientView:
    """No new tokens; its tokens already issued stop working within seconds on every API worker."""
    return _view(await access.set_client_active(session, statuses, client_id, active=False))


@router.post("/clients/{client_id}/activate", response_model=ServiceClientView,
             summary="Reactivate a service client (ministry admins)", responses=CLIENT_ERRORS)
async def activate_client(admin: MinistryAdmin, session: SessionDep, statuses: ClientStatusDep,
                          client_id: str = ClientId) -> ServiceClientView:
    return _view(await access.set_client_active(session, statuses, client_id, active=True))


@router.post("/clients/{client_id}/secret", response_model=ServiceClientSecret,
             summary="Rotate a service client's secret (ministry admins)", responses=CLIENT_ERRORS)
async def rotate_secret(admin: MinistryAdmin, session: SessionDep, client_id: str = ClientId) -> ServiceClientSecret:
    """A new secret, shown only in this answer; the old one is refused from now on. Tokens issued with the
    old secret run out within HOCSO_SERVICE_TOKEN_TTL_S (deactivate the client to stop them at once)."""
    client, secret = await access.rotate_client_secret(session, client_id)
    return ServiceClientSecret(client_id=client.client_id, client_secret=secret)
