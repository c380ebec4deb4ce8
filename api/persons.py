"""The event store as the personal-data routes need it: one that knows persons."""

from __future__ import annotations

from api.context import Api
from booking_core.handlers.persons import PersonStore

__all__ = ["person_store"]


def person_store(api: Api) -> PersonStore:
    """The API's event store, which resolves, exports and erases persons (both stores do)."""
    store = api.services.store
    if not isinstance(store, PersonStore):
        raise TypeError("the API's event store does not know persons")
    return store
