"""The real app over HTTP, against the run's PostgreSQL database and Redis.

The API tests share one world: an empty event store, a venue open every day from 10:00
to 23:45 (Europe/London), six tables, an admin, and the projector daemon running as a
process for as long as the package's tests run. Each test books on days and at times
of its own (`days`), so tests never see each other's bookings.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, Page, async_playwright
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from api.accounts import PasswordHasher, UserStore
from api.app import create_app
from api.services import ApiConfig, Services
from booking_core.domain.commands import (
    Actor,
    AddTable,
    BookTable,
    ChangeSlotSettings,
    SetOpeningHours,
)
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.handlers import add_table, book_table, change_venue
from booking_core.store.postgres import PostgresEventStore
from read_models.model_keys import model_root, ready_key
from tablebook.runtime import open_services
from tests.support.models import clear_read_models
from tests.support.scope import TEST_VENUE, open_test_venue, to_test_venue, wait_for_test_venue
from tests.support.tools import missing

SECRET = "test-secret-key-that-is-long-enough-for-hs256"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"
TIME_ZONE = "Europe/London"
TABLES = [
    ("t1", "T1", 2, 1, "Main"),
    ("t2", "T2", 2, 1, "Main"),
    ("t3", "T3", 4, 2, "Main"),
    ("t4", "T4", 4, 2, "Terrace"),
    ("t5", "T5", 6, 3, "Terrace"),
    ("t6", "T6", 8, 4, "Terrace"),
]


@pytest.fixture(scope="package")
def api_config() -> ApiConfig:
    return ApiConfig(
        secret_key=SECRET,
        bcrypt_rounds=4,
        login_attempts_per_account=5,
        login_attempts_per_address=50,
        login_first_delay_seconds=30,  # a wait a slow machine cannot outlast mid-test
        registrations_per_address=100_000,
        public_writes_per_address=100_000,
        consistency_timeout=5.0,
    )


async def _reset(pool: AsyncConnectionPool[Any], redis_url: str, prefix: str) -> None:
    async with pool.connection() as connection:
        await connection.execute(
            "TRUNCATE events, streams, idempotency_keys, users, venue_staff RESTART IDENTITY"
        )
    redis = Redis.from_url(redis_url)
    try:
        await clear_read_models(pool, redis, prefix)
    finally:
        await redis.aclose()


async def _redis_models_ready(redis_url: str, prefix: str, timeout: float = 60.0) -> None:
    """Wait until the daemon has built every Redis model from the first event and marked
    it readable: until then reads answer 503 `model-not-ready`, as they should."""
    keys = [ready_key(model_root(prefix, p.name)) for p in registry.REDIS_PROJECTIONS]
    redis = Redis.from_url(redis_url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while await redis.exists(*keys) < len(keys):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the projector daemon never made its Redis models ready")
            await asyncio.sleep(0.05)
    finally:
        await redis.aclose()


async def _open_venue(store: PostgresEventStore) -> None:
    admin = Actor(user_id="setup", role="admin")
    if TEST_VENUE != DEFAULT_VENUE_ID:  # a deployment of before venues: its venue is Main
        await change_venue(
            store,
            SetOpeningHours(
                command_id="setup-main",
                actor=admin,
                now=dt.datetime.now(dt.UTC),
                hours=OpeningHours.every_day(Shift(opens=dt.time(12, 0), closes=dt.time(22, 0))),
            ),
        )
    await open_test_venue(store, TIME_ZONE)
    now = dt.datetime.now(dt.UTC)
    hours = OpeningHours.every_day(Shift(opens=dt.time(10, 0), closes=dt.time(23, 45)))
    await change_venue(
        store,
        SetOpeningHours(
            venue_id=TEST_VENUE, command_id="setup-hours", actor=admin, now=now, hours=hours
        ),
    )
    await change_venue(
        store,
        ChangeSlotSettings(
            venue_id=TEST_VENUE,
            command_id="setup-slots",
            actor=admin,
            now=now,
            interval_minutes=15,
            turn_times=(
                TurnTime(max_party_size=2, minutes=90),
                TurnTime(max_party_size=8, minutes=120),
            ),
            buffer_minutes=0,
            min_lead_minutes=0,
            max_days_ahead=365,
            time_zone=TIME_ZONE,
        ),
    )
    for table_id, name, capacity, minimum, area in TABLES:
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=f"setup-{table_id}",
                actor=admin,
                now=now,
                table_id=table_id,
                name=name,
                capacity=capacity,
                min_capacity=minimum,
                area=area,
            ),
        )


@dataclass
class World:
    pool: AsyncConnectionPool[Any]
    store: PostgresEventStore
    redis_prefix: str


@pytest.fixture(scope="package")
async def world(
    database_url: str, redis_url: str, redis_prefix: str, pool: AsyncConnectionPool[Any]
) -> AsyncIterator[World]:
    """A fresh store and read models, the venue, an admin, and the projector daemon
    running as its own process (`tablebook projectors run`), as in production."""
    await _reset(pool, redis_url, redis_prefix)
    store = PostgresEventStore(pool, database_url)
    await _open_venue(store)
    users = UserStore(pool)
    hashed = await PasswordHasher(4).hash(ADMIN_PASSWORD)
    await users.upsert_admin(email=ADMIN_EMAIL, password_hash=hashed, full_name="Ada Admin")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "NOTIFY_WITH_PROJECTORS": "false",
        "LOG_LEVEL": "WARNING",
    }
    daemon = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tablebook.cli", "projectors", "run", env=env
    )
    try:
        await wait_for_test_venue(pool)
        await _redis_models_ready(redis_url, redis_prefix)
        yield World(pool, store, redis_prefix)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(daemon.wait(), 10)
        except TimeoutError:
            daemon.kill()
            await daemon.wait()
    await _reset(pool, redis_url, redis_prefix)


@pytest.fixture(scope="package")
def app(api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str) -> Litestar:
    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=8, redis_prefix=redis_prefix)

    return create_app(api_config, services)


@pytest.fixture(scope="package")
async def client(app: Litestar, world: World) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        client.event_hooks = {"request": [to_test_venue], "response": []}
        yield client


Headers = dict[str, str]


async def sign_in(client: AsyncTestClient[Litestar], email: str, password: str) -> Headers:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="package")
async def admin(client: AsyncTestClient[Litestar]) -> Headers:
    return await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)


NewUser = Callable[..., Awaitable[tuple[Headers, dict[str, Any]]]]


async def grant_role(
    client: AsyncTestClient[Litestar], who: Headers, venue_id: str, user_id: str, role: str
) -> None:
    """Give the user `role` at the venue (as `who`, the admin mostly)."""
    granted = await client.put(
        f"/api/v1/admin/venues/{venue_id}/staff/{user_id}", json={"role": role}, headers=who
    )
    assert granted.status_code == 200, granted.text


async def host_at(
    client: AsyncTestClient[Litestar],
    admin: Headers,
    new_user: NewUser,
    venue_id: str,
    name: str = "Hattie Host",
) -> Headers:
    """A new account made a host of the venue by the admin; its sign-in headers."""
    headers, user = await new_user(name)
    await grant_role(client, admin, venue_id, user["id"], "host")
    return headers


def problem_of(response: Any, status: int, kind: str) -> dict[str, Any]:
    """The response is a problem of `kind` with `status`; its body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{kind}"), body
    return body


async def booked_before(
    world: World, venue_id: str, day: dt.date, *, party_size: int = 2, **details: Any
) -> str:
    """A phone booking at 12:00 on `day`, placed in the store the day before at 09:00 UTC:
    a booking whose start has passed, as a no-show needs."""
    booking_id = f"bkg_{uuid.uuid4().hex}"
    await book_table(
        world.store,
        BookTable(
            venue_id=venue_id,
            command_id=uuid.uuid4().hex,
            actor=Actor(user_id="front-desk", role="admin"),
            now=dt.datetime.combine(day - dt.timedelta(days=1), dt.time(9), dt.UTC),
            booking_id=booking_id,
            date=day,
            time=dt.time(12, 0),
            party_size=party_size,
            source="phone",
            **details,
        ),
    )
    return booking_id


@pytest.fixture
def new_user(client: AsyncTestClient[Litestar]) -> NewUser:
    """Register a fresh guest; its sign-in headers and `User`."""

    async def make(
        name: str = "Grace Hopper", password: str = "correct horse"
    ) -> tuple[Headers, dict[str, Any]]:
        email = f"guest-{uuid.uuid4().hex[:12]}@example.com"
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "full_name": name},
        )
        assert response.status_code == 201, response.text
        return await sign_in(client, email, password), response.json()

    return make


@pytest.fixture
async def guest(new_user: NewUser) -> Headers:
    headers, _ = await new_user()
    return headers


_days = itertools.count(3)


@pytest.fixture
def days() -> Iterator[dt.date]:
    """Dates no other test books on: each `next(days)` is a new one, from three days out."""
    today = dt.date.today()
    return (today + dt.timedelta(days=next(_days)) for _ in itertools.count())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(database_url: str, redis_url: str, redis_prefix: str, **settings: str) -> Iterator[str]:
    """The base URL of a `tablebook serve` process with these settings (environment
    variables) over the defaults below, stopped on leaving."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "SECRET_KEY": SECRET,
        "BCRYPT_ROUNDS": "4",
        "LOGIN_ATTEMPTS_PER_ADDRESS": "1000",
        "LOGIN_FIRST_DELAY_SECONDS": "30",  # a wait a slow machine cannot outlast mid-test
        "PUBLIC_WRITES_PER_ADDRESS": "100000",
        "REGISTRATIONS_PER_ADDRESS": "100000",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tablebook.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"tablebook serve exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("tablebook serve did not come up within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def live_server(
    database_url: str, redis_url: str, redis_prefix: str, world: World
) -> Iterator[str]:
    """The base URL of a `tablebook serve` process; the package's projectors feed it. It
    believes `X-Forwarded-For` from this host, so a test can speak as many clients."""
    with serving(database_url, redis_url, redis_prefix, FORWARDED_ALLOW_IPS="127.0.0.1") as url:
        yield url


# --- the console in a browser ------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NO_CHROMIUM = f"no Chromium at {CHROMIUM} to drive (apt-get install -y chromium)"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where the six tables of the package's venue stand on the test layout: x, y, w, h, shape.
PLACES = {
    "T1": (60, 80, 90, 90, "round"),
    "T2": (220, 80, 90, 90, "round"),
    "T3": (60, 300, 130, 130, "square"),
    "T4": (580, 80, 130, 130, "square"),
    "T5": (580, 300, 200, 100, "rectangle"),
    "T6": (580, 450, 260, 110, "oval"),
}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        missing(NO_CHROMIUM)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh tab on the console's server; fails the test on any script error. Tests may
    give the tab's own settings (`indirect` parametrisation): a time zone, a viewport."""
    settings: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}}
    settings.update(getattr(request, "param", {}))
    async with console_tab(browser, live_server, **settings) as tab:
        yield tab


@contextlib.asynccontextmanager
async def console_tab(browser: Browser, live_server: str, **settings: Any) -> AsyncIterator[Page]:
    """A tab in a browser context of its own, with `settings`; on leaving, the context is
    closed and any script error the tab met fails the test."""
    context = await browser.new_context(base_url=live_server, **settings)
    # A click, a fill or an awaited response gets 15 s, for a machine the other test
    # worker keeps busy: what a test checks is what happens, not how fast.
    context.set_default_timeout(15_000)
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        await context.close()
    assert errors == [], f"script errors in the console: {errors}"


async def signed_in(page: Page, who: Headers) -> None:
    """The tab is signed in as `who` (the token in its session storage) from its first page."""
    token = who["Authorization"].removeprefix("Bearer ")
    await page.add_init_script(f"sessionStorage.setItem('tablebook.token', {token!r})")


@pytest.fixture
async def staff(page: Page, admin: Headers) -> Page:
    """The tab, already signed in as the admin (its token in the tab's session storage)."""
    await signed_in(page, admin)
    await page.add_init_script(  # the suite's venue, until the tab chooses another
        "if (!sessionStorage.getItem('tablebook.venue'))"
        f" sessionStorage.setItem('tablebook.venue', {TEST_VENUE!r})"
    )
    return page


async def suite_tables(client: AsyncTestClient[Litestar], admin: Headers) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/admin/tables?limit=500", headers=admin)
    assert response.status_code == 200, response.text
    return [t for t in response.json()["items"] if t["name"] in PLACES]


@pytest.fixture
async def layout(client: AsyncTestClient[Litestar], admin: Headers) -> dict[str, Any]:
    """A layout of the six tables, the main room on the left and the terrace on the right."""
    placed = [
        dict(zip(("x", "y", "width", "height", "shape"), PLACES[t["name"]], strict=True))
        | {"table_id": t["id"]}
        for t in sorted(await suite_tables(client, admin), key=lambda t: t["name"])
    ]
    body = {
        "name": f"Browser floor {uuid.uuid4().hex[:6]}",
        "tables": placed,
        "areas": [
            {"name": "Main", "x": 0, "y": 0, "width": 500, "height": 600, "color": "#f4ebdd"},
            {"name": "Terrace", "x": 520, "y": 0, "width": 480, "height": 600, "color": "#e3f1e0"},
        ],
        "canvas": {"width": 1000, "height": 600},
    }
    response = await client.post("/api/v1/admin/layouts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json(), consistency=response.headers["X-Consistency-Token"])


@dataclass(frozen=True)
class OwnVenue:
    id: str
    tables: dict[str, str]  # name -> id
    token: str  # the last setup write's X-Consistency-Token


OwnVenueMaker = Callable[..., Awaitable[OwnVenue]]


@pytest.fixture
def own_venue(client: AsyncTestClient[Litestar], admin: Headers) -> OwnVenueMaker:
    """A venue of the test's own, open all day in the suite's time zone with the suite's
    six tables: the host stand works at the current minute, and what it seats today
    must not take the tables other tests book today in the suite's venue."""

    async def make(lead_minutes: int = 0) -> OwnVenue:
        opened = await client.post(
            "/api/v1/admin/venues",
            json={
                "name": f"Aa Host Stand {uuid.uuid4().hex[:4]}",
                "slug": f"stand-{uuid.uuid4().hex[:8]}",
                "time_zone": TIME_ZONE,
            },
            headers=admin,
        )
        assert opened.status_code == 201, opened.text
        venue_id = str(opened.json()["id"])
        scope = f"/api/v1/venues/{venue_id}/admin"
        day = [{"open": "00:00", "close": "23:59"}]
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        slots = {
            "interval_minutes": 15,
            "turn_times": [
                {"max_party_size": 2, "minutes": 90},
                {"max_party_size": 8, "minutes": 120},
            ],
            "buffer_minutes": 0,
            "min_lead_minutes": lead_minutes,
            "max_days_ahead": 365,
            "time_zone": TIME_ZONE,
        }
        writes: list[tuple[str, str, dict[str, Any]]] = [
            ("PUT", f"{scope}/operating-hours", dict.fromkeys(weekdays, day)),
            ("PUT", f"{scope}/time-slots", slots),
        ]
        writes += [
            ("POST", f"{scope}/tables", {"name": name, "capacity": seats, "min_capacity": least})
            for _, name, seats, least, _ in TABLES
        ]
        token = opened_token = opened.headers["X-Consistency-Token"]
        tables: dict[str, str] = {}
        for method, path, body in writes:
            done = await client.request(
                method, path, json=body, headers={**admin, "X-Consistency-Token": token}
            )
            assert done.is_success, done.text
            token = done.headers["X-Consistency-Token"]
            if path.endswith("/tables"):
                tables[body["name"]] = done.json()["id"]
        listed = await client.get(
            f"{scope}/tables", headers={**admin, "X-Consistency-Token": token}
        )
        assert listed.status_code == 200, listed.text
        directory = await client.get(
            "/api/v1/venues", headers={**admin, "X-Consistency-Token": opened_token}
        )
        assert venue_id in {v["id"] for v in directory.json()}
        return OwnVenue(venue_id, tables, token)

    return make
