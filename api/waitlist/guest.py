"""`/api/v1/venues/{venue_id}/waitlist/{entry_id}`: a waiting guest follows their place.

No sign-in: the entry's token (given when the party joined, as `?token=` or
`Authorization: Waitlist <token>`) is the key. A wrong or missing token is the same 404
as an entry that does not exist. The answer holds the place, the quote worked out from
the floor now, the party size and status: no name, phone or notes, the guest's or anyone's.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter

from api.context import ApiDep
from api.requests import now
from api.venue_scope import VenueDep
from api.waitlist.views import QUOTE_MODELS, GuestEntryOut, entry_from_row, quoted_line, token_hash
from booking_core.domain.errors import WaitlistEntryNotFound
from read_models import waitlist as waitlist_model

__all__ = ["WaitlistGuestController"]

_SCHEME = "waitlist "


class WaitlistGuestController(Controller):
    path = "/waitlist"
    tags = ["waitlist"]
    security = []

    @get("/{entry_id:str}", summary="A waiting party's place and quote, by its token")
    async def follow(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        entry_id: Annotated[str, FromPath],
        token: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=200,
                description="The token given when the party joined (or send"
                " `Authorization: Waitlist <token>`)",
            ),
        ] = None,
    ) -> GuestEntryOut:
        given = token or _from_header(request.headers.get("authorization"))
        await api.consistent(request, sql=QUOTE_MODELS)
        row = await waitlist_model.entry(api.services.pool, venue.id, entry_id)
        if (
            row is None
            or given is None
            or not hmac.compare_digest(token_hash(given), row.token_hash)
        ):
            raise WaitlistEntryNotFound(entry_id)
        quote = None
        if row.status == "waiting":
            waiting, _ = await quoted_line(api, venue.id, row.service_date, now())
            quote = next((q for r, q in waiting if r.id == row.id), None)
        shown = entry_from_row(row, quote)
        return GuestEntryOut(
            id=shown.id,
            status=shown.status,
            position=shown.position,
            quoted_wait_minutes=shown.quoted_wait_minutes,
            party_size=shown.party_size,
            added_at=shown.added_at,
        )


def _from_header(value: str | None) -> str | None:
    if value is None or not value.lower().startswith(_SCHEME):
        return None
    return value[len(_SCHEME) :].strip() or None
