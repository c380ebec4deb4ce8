"""`POST /api/v1/admin/guests/{guest_id}/erase`: erase a guest's personal data.

An admin or a manager of the guest's venue erases the guest (`booking_core.handlers.
persons`): their key is destroyed and a `PersonErased` recorded, in one transaction. From
then every reader shows their personal fields as erased; the facts stay. Erasing a guest
erased before answers the same 204 and writes nothing; the profiles merged with it
(`read_models.guests.group_of`) are erased with it; an id the venue never had (or
another venue's guest) is a 404. See `docs/data-protection.md`.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from api.context import ApiDep
from api.persons import person_store
from api.requests import AUTH, now
from api.venue_scope import StaffDep, venue_managers
from booking_core.domain.personal import is_person_id
from booking_core.domain.streams import streams_of
from booking_core.handlers.persons import erase_persons
from read_models import guests as guests_model

__all__ = ["AdminGuestErasureController"]

GuestId = Annotated[str, FromPath]


class AdminGuestErasureController(Controller):
    path = "/admin/guests"
    tags = ["admin: guests"]
    security = AUTH
    guards = [venue_managers]

    @post(
        "/{guest_id:str}/erase",
        status_code=204,
        summary="Erase a guest's personal data",
        description="The guest's name, phone, email, requests and notes become unreadable"
        " everywhere (events, read models, exports, replays, rebuilds, notifications not yet"
        " sent); their bookings' facts stay. Erasing an erased guest again is a 204 too.",
    )
    async def erase(self, api: ApiDep, staff: StaffDep, guest_id: GuestId) -> None:
        store = person_store(api)
        if not is_person_id(guest_id):
            raise _no_such_guest()
        # A profile merged with others is one guest: their keys go together. The group
        # comes from the profiles read model; the id asked for is erased whatever it says.
        group = await guests_model.group_of(api.services.pool, staff.venue_id, guest_id)
        persons = list(dict.fromkeys([guest_id, *group]))
        erased = await erase_persons(
            store, {staff.venue_id: persons}, erased_by=staff.user.id, at=now()
        )
        if erased.persons:
            await api.forget_replays()  # saved first answers may name the guest
            return
        # No key: erased before (its stream holds the erasure) or never this venue's.
        if await store.stream_version(streams_of(staff.venue_id).person(guest_id)) == 0:
            raise _no_such_guest()


def _no_such_guest() -> NotFoundException:
    return NotFoundException(detail="This venue has no such guest.")
