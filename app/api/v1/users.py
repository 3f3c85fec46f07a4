"""The signed-in user's profile, and user administration for ministry and province admins."""

import uuid
from typing import Annotated

from fastapi import Query

from app.api.deps import CurrentUser, SessionDep, UserAdmin
from app.api.problems import problem
from app.api.v1 import v1_router
from app.models.identity import Audience, ProfileUpdate, UserAdminView, UserPage, UserPublic
from app.models.units import UnitAttachment as OfficialVerification
from app.services.identity import accounts as identity
from app.services.units import tree

router = v1_router(tags=["users"])



@router.get("/users/me", response_model=UserPublic, summary="The signed-in user",
            responses={401: problem("Missing or invalid token")})
async def read_me(user: CurrentUser) -> UserPublic:
    """`effective_audience` is `citizen` for an official not yet verified: that is how their completions
    count and which courses they can take."""
    return UserPublic.of(user)


@router.patch(
    "/users/me", response_model=UserPublic, summary="Update my profile",
    responses={409: problem("Phone or e-mail already used"),
               422: problem("Invalid fields")},
)
async def update_me(changes: ProfileUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    """Send only the fields to change: `full_name`, `phone`, `email` (null removes it; one must remain),
    `agency` (officials), `province_code` (a learner who moved). Role and audience cannot be changed here.
    An official who changes agency or province is verified again by the province admin."""
    return UserPublic.of(await identity.update_profile(session, user, changes))


@router.get(
    "/admin/users", response_model=UserPage, summary="Find users (ministry and province admins)",
    responses={403: problem("Not a user admin, or another province")},
)
async def list_users(
    admin: UserAdmin, session: SessionDep,
    q: Annotated[str | None, Query(max_length=200,
                                   description="Name, phone or e-mail; accents optional")] = None,
    audience: Audience | None = None,
    province: Annotated[str | None, Query(min_length=2, max_length=2, description="Province code")] = None,
    verified: Annotated[bool | None, Query(
        description="true: verified officials; false: officials waiting for verification")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> UserPage:
    """Newest first, keyset-paged. A province admin sees only users of their own province."""
    return await identity.list_users(session, admin, q=q, audience=audience, province=province,
                                     verified=verified, limit=limit, cursor=cursor)


@router.post(
    "/admin/users/{user_id}/verify-official", response_model=UserAdminView, summary="Verify an official",
    responses={404: problem("No such user in your province"),
               409: problem("The user did not register as an official")},
)
async def verify_official(user_id: uuid.UUID, admin: UserAdmin, session: SessionDep,
                          body: OfficialVerification | None = None) -> UserAdminView:
    """From now on the official's completions count as officials' completions and official-only courses
    open to them. Verifying an already verified official changes nothing. The official is attached to a unit
    of their province (`unit_id`, or the unit whose name is their agency), where completion rates count them."""
    return UserAdminView.of(await tree.verify_official(session, admin, user_id, body.unit_id if body else None))
