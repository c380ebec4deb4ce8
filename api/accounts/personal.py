"""`GET /api/v1/auth/me/export`: everything held about the signed-in user, as JSON
(`api.accounts.personal_data`; erasing it is `DELETE /api/v1/auth/me`, with the other
routes of the account in `api.accounts.auth`)."""

from __future__ import annotations

from litestar import Controller, get

from api.accounts.personal_data import PersonalData, export_of
from api.context import ApiDep, UserDep
from api.requests import AUTH

__all__ = ["PersonalDataController"]


class PersonalDataController(Controller):
    path = "/api/v1/auth/me"
    tags = ["auth"]
    security = AUTH

    @get(
        "/export",
        summary="Everything held about the signed-in user",
        description="The account, the user's guest ids at each venue, and every booking and"
        " waitlist entry of theirs (made for themselves, or by staff for their email) with"
        " each of its events, personal fields opened.",
    )
    async def export(self, api: ApiDep, user: UserDep) -> PersonalData:
        return await export_of(api, user)
