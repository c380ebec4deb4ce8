"""What the staff's timeline reads: a venue's hosts read its opening hours, slot settings
and closures (its managers alone change them), and every table's blocks of one day come
from one route, `GET /admin/blocks?date=`.

Each test works on a venue of its own (`own_venue`), on days well ahead of the clock's
today, so no other test's blocks meet these and the hour of the run does not matter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.browser import venue_now
from tests.api.conftest import Headers, NewUser, OwnVenue, OwnVenueMaker, host_at

Client = AsyncTestClient[Litestar]


def _scope(venue: OwnVenue, rest: str) -> str:
    return f"/api/v1/venues/{venue.id}/admin/{rest}"


def _ahead(days: int) -> dt.date:
    return venue_now().date() + dt.timedelta(days=days)


async def test_a_host_reads_the_hours_slots_and_closures_but_cannot_change_them(
    client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    day = _ahead(20).isoformat()
    closed = await client.post(
        _scope(venue, "closures"),
        json={"date": day, "reason": "Private party"},
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert closed.status_code == 201, closed.text
    host = {**await host_at(client, admin, new_user, venue.id)}
    seen = {**host, "X-Consistency-Token": closed.headers["X-Consistency-Token"]}

    hours = await client.get(_scope(venue, "operating-hours"), headers=seen)
    assert hours.status_code == 200, hours.text
    assert hours.json()["monday"] == [{"open": "00:00", "close": "23:59"}]
    slots = await client.get(_scope(venue, "time-slots"), headers=seen)
    assert slots.status_code == 200, slots.text
    assert slots.json()["interval_minutes"] == 15
    listed = await client.get(_scope(venue, f"closures?from={day}"), headers=seen)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [{"date": day, "reason": "Private party"}]
    one = await client.get(_scope(venue, f"closures/{day}"), headers=seen)
    assert one.status_code == 200, one.text

    changes: list[tuple[str, str, Any]] = [
        ("PUT", "operating-hours", {"monday": [{"open": "09:00", "close": "17:00"}]}),
        ("PUT", "time-slots", {**slots.json(), "interval_minutes": 30}),
        ("POST", "closures", {"date": _ahead(21).isoformat(), "reason": "Staff outing"}),
        ("DELETE", f"closures/{day}", None),
    ]
    for method, path, body in changes:
        refused = await client.request(method, _scope(venue, path), json=body, headers=host)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["detail"] == "Only an admin or a manager of this venue may do this."
    still = await client.get(_scope(venue, "time-slots"), headers=seen)
    assert still.json()["interval_minutes"] == 15


async def _block(
    client: Client, admin: Headers, venue: OwnVenue, table: str, start: str, end: str, reason: str
) -> str:
    placed = await client.post(
        _scope(venue, f"tables/{venue.tables[table]}/blocks"),
        json={"start": start, "end": end, "reason": reason},
        headers={**admin, "X-Consistency-Token": venue.token},
    )
    assert placed.status_code == 201, placed.text
    return str(placed.headers["X-Consistency-Token"])


async def test_a_days_blocks_of_every_table_come_from_one_route(
    client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    day, next_day, later = _ahead(10), _ahead(11), _ahead(12)
    await _block(client, admin, venue, "T1", f"{day}T18:00", f"{day}T20:00", "Broken leg")
    await _block(client, admin, venue, "T2", f"{day}T23:00", f"{next_day}T01:00", "Late party")
    token = await _block(
        client, admin, venue, "T3", f"{later}T12:00", f"{later}T13:00", "Deep clean"
    )
    host = await host_at(client, admin, new_user, venue.id)
    seen = {**host, "X-Consistency-Token": token}

    async def blocks_on(date: dt.date, **extra: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in {"date": date.isoformat(), **extra}.items())
        response = await client.get(_scope(venue, f"blocks?{query}"), headers=seen)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    first = await blocks_on(day)
    assert [(b["table_id"], b["reason"]) for b in first] == [
        (venue.tables["T1"], "Broken leg"),
        (venue.tables["T2"], "Late party"),
    ]
    # Instants in UTC; London is an hour ahead of UTC or level with it.
    assert first[0]["start"].startswith(f"{day}T1")
    # A block past midnight belongs to both days; a day with none has none.
    assert [b["reason"] for b in await blocks_on(next_day)] == ["Late party"]
    assert await blocks_on(_ahead(13)) == []

    # Paged like the venue's other lists.
    page = await client.get(_scope(venue, f"blocks?date={day}&limit=1"), headers=seen)
    assert [b["reason"] for b in page.json()["items"]] == ["Broken leg"]
    cursor = page.json()["next_cursor"]
    rest = await client.get(
        _scope(venue, f"blocks?date={day}&limit=1&cursor={cursor}"), headers=seen
    )
    assert [b["reason"] for b in rest.json()["items"]] == ["Late party"]
    assert rest.json()["next_cursor"] is None


async def test_the_days_blocks_are_for_the_venues_staff_and_need_a_real_date(
    client: Client, admin: Headers, guest: Headers, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    outsider = await client.get(_scope(venue, f"blocks?date={_ahead(10)}"), headers=guest)
    assert outsider.status_code == 403, outsider.text
    assert outsider.json()["detail"] == "Only the staff of this venue may do this."
    missing = await client.get(_scope(venue, "blocks"), headers=admin)
    assert missing.status_code == 400, missing.text
    assert "date" in missing.json()["detail"]
    bad = await client.get(_scope(venue, "blocks?date=2026-02-30"), headers=admin)
    assert bad.status_code == 400, bad.text
    far = await client.get(_scope(venue, "blocks?date=2300-01-01"), headers=admin)
    assert far.status_code == 422, far.text
