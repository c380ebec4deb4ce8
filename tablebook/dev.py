"""`tablebook dev`: the API and the projector daemon in one process, on demo data.

After the migrations (`tablebook.cli`), one asyncio run:

1. the demo admin (`admin@tablebook.local`) gets the password from
   `TABLEBOOK_ADMIN_PASSWORD`, or else one made up on the first run and kept in
   `<data dir>/admin-password`, so it stays the same from run to run;
2. the demo restaurant is seeded, unless the venue is set up already;
3. the API (uvicorn) and every projection run side by side; once the API listens, a
   short box on stdout gives the staff console's address, the demo venues' booking
   pages, the API and its docs, and the admin's sign-in. Nothing logs a line per message
   after it (the notification sender sums its skips up per sweep), so it stays in view.

SIGINT (Ctrl-C) or SIGTERM at any point stops all of it: the projectors finish the batch
in hand, uvicorn closes its connections, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn

from booking_core.domain.commands import Actor
from booking_core.domain.registry import entry_of
from booking_core.handlers import load_venue
from booking_core.store.postgres import PostgresEventStore
from tablebook.asgi import app_for
from tablebook.database import open_pool
from tablebook.projector_commands import run_projectors
from tablebook.seed import DEMO_ADMIN_EMAIL, DEMO_VENUES, is_configured, seed_with_progress
from tablebook.settings import Settings
from tablebook.users_commands import ensure_admin, stored_password

__all__ = ["DevAdmin", "DevDemo", "banner", "run_dev"]

log = logging.getLogger("tablebook.dev")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DevAdmin:
    email: str
    password: str
    origin: str
    """Where the password comes from, for the banner."""


@dataclass(frozen=True, slots=True)
class DevDemo:
    admin: DevAdmin
    slugs: tuple[str, ...]
    """The demo venues' slugs, as the registry holds them: their booking pages."""


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: `run_dev` owns the signals, so one Ctrl-C
    stops the projectors too, and the exit status stays 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_dev(settings: Settings, *, host: str, port: int, bcrypt_rounds: int = 12) -> None:
    """Prepare the demo, then serve and project until SIGINT or SIGTERM."""
    assert settings.database_url
    assert settings.redis_url
    stop = asyncio.Event()
    _stop_on_signals(stop)
    demo = await _unless_stopped(_prepare(settings, bcrypt_rounds), stop)
    if demo is None:
        return
    if settings.log_level != "DEBUG":  # a line per console request would bury the ready box
        logging.getLogger("tablebook.access").setLevel(logging.WARNING)
    server = _Server(
        uvicorn.Config(
            app_for(settings),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            **settings.proxy_options(),
        )
    )
    serving = asyncio.create_task(server.serve())
    projecting = asyncio.create_task(
        run_projectors(
            settings.database_url,
            settings.redis_url,
            settings.redis_prefix,
            stop=stop,
            settings=settings,
        )
    )
    announcing = asyncio.create_task(_announce(server, f"http://{host}:{port}", demo))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, projecting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    server.should_exit = True
    announcing.cancel()
    await asyncio.gather(serving, projecting, stopped)


def banner(url: str, demo: DevDemo) -> str:
    """The box `tablebook dev` prints once the API listens."""
    admin = demo.admin
    pages = [f"{url}/book/{slug}" for slug in demo.slugs]
    lines = [
        "tablebook is running (API and projectors)",
        "",
        f"  Console  {url}/console (staff)",
        *(f"  {'Booking' if n == 0 else '':7}  {page}" for n, page in enumerate(pages)),
        f"  API      {url}/api/v1",
        f"  Docs     {url}/docs",
        f"  Admin    {admin.email}",
        f"           password: {admin.password}",
        f"           ({admin.origin})",
        "",
        "Ctrl-C stops everything.",
    ]
    width = max(map(len, lines))
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


async def _prepare(settings: Settings, bcrypt_rounds: int) -> DevDemo:
    assert settings.database_url
    admin = _admin(settings)
    pool = await open_pool(settings.database_url, min_size=1, max_size=4)
    try:
        account = await ensure_admin(
            pool,
            email=admin.email,
            password=admin.password,
            full_name="Demo admin",
            rounds=bcrypt_rounds,
        )
        store = PostgresEventStore(pool, settings.database_url)
        venue, _ = await load_venue(store)
        if is_configured(venue):
            log.info("demo restaurant already seeded; left as it is")
        else:
            summaries = await seed_with_progress(
                store, time_zone=settings.time_zone, admin=Actor(user_id=account.id, role="admin")
            )
            for summary in summaries:
                log.info(summary.line())
        slugs = []
        for at in DEMO_VENUES:
            state, _ = await load_venue(store, at.venue_id)
            entry = entry_of(at.venue_id, state)
            if entry is not None:
                slugs.append(entry.slug)
    finally:
        await pool.close()
    return DevDemo(admin, tuple(slugs))


def _admin(settings: Settings) -> DevAdmin:
    if settings.admin_password:
        return DevAdmin(DEMO_ADMIN_EMAIL, settings.admin_password, "TABLEBOOK_ADMIN_PASSWORD")
    path = settings.data_dir / "admin-password"
    return DevAdmin(DEMO_ADMIN_EMAIL, stored_password(path), f"kept in {path}")


async def _announce(server: uvicorn.Server, url: str, demo: DevDemo) -> None:
    while not server.started:  # noqa: ASYNC110 - uvicorn sets a flag, it has no event
        await asyncio.sleep(0.05)
    print(banner(url, demo), flush=True)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


async def _unless_stopped(work: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None if `stop` is set first (then `work` is cancelled)."""
    task = asyncio.create_task(work)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
