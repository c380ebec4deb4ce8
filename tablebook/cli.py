"""The `tablebook` command: run, migrate and look after a tablebook installation."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import psycopg
import sqlalchemy.exc
from redis.exceptions import ConnectionError as RedisConnectionError

from tablebook.database import migrate
from tablebook.logs import configure_logging
from tablebook.settings import Settings, SettingsError

__all__ = ["main"]

log = logging.getLogger("tablebook")


@contextlib.contextmanager
def resolved(settings: Settings) -> Iterator[Settings]:
    """The settings with database and Redis URLs, starting embedded servers for the unset."""
    if settings.database_url and settings.redis_url:
        yield settings
        return
    if settings.production:
        raise SettingsError("DATABASE_URL and REDIS_URL must be set in production")
    from tablebook.embedded import embedded_services

    with embedded_services(
        settings.data_dir, postgres=not settings.database_url, redis=not settings.redis_url
    ) as urls:
        yield replace(
            settings,
            database_url=settings.database_url or urls.database_url,
            redis_url=settings.redis_url or urls.redis_url,
        )


def _export(settings: Settings) -> None:
    """Hand the resolved URLs to child processes (uvicorn workers read the environment)."""
    if settings.database_url:
        os.environ["DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        os.environ["REDIS_URL"] = settings.redis_url


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    with resolved(settings) as ready:
        assert ready.database_url
        migrate(ready.database_url)
    log.info("migrations applied")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from tablebook.metrics import worker_metrics

    with resolved(settings) as ready, worker_metrics(args.workers):
        _export(ready)
        uvicorn.run(
            "tablebook.asgi:create",
            factory=True,
            host=args.host or ready.host,
            port=args.port or ready.port,
            workers=args.workers,
            log_config=None,
            access_log=False,
            **ready.proxy_options(),
        )
    return 0


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.dev import run_dev

    with resolved(settings) as ready:
        assert ready.database_url
        _export(ready)
        migrate(ready.database_url)
        log.info("migrations applied")
        host, port = args.host or ready.host, args.port or ready.port
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_dev(ready, host=host, port=port, bcrypt_rounds=args.bcrypt_rounds))
    log.info("stopped")
    return 0


def cmd_users_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.users_commands import check_account, create_admin_in, password_from_file

    password: str | None = args.password or settings.admin_password
    if args.password_file is not None:
        password = password_from_file(args.password_file)
    if not password:
        raise ValueError("give --password or --password-file, or set TABLEBOOK_ADMIN_PASSWORD")
    check_account(args.email, password)
    with resolved(settings) as ready, _needs_migrations():
        assert ready.database_url
        user = asyncio.run(
            create_admin_in(
                ready.database_url,
                email=args.email,
                password=password,
                full_name=args.name,
                rounds=args.bcrypt_rounds,
                keep_existing=args.keep_existing,
            )
        )
    if user is None:
        print(f"{args.email} has an account already: left as it is")
        return 0
    print(f"admin {user.email} ready (id {user.id})")
    return 0


def cmd_venues_create(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.venues_commands import create_venue_in, venue_line

    with resolved(settings) as ready, _needs_migrations():
        assert ready.database_url
        result = asyncio.run(
            create_venue_in(
                ready.database_url,
                name=args.name,
                slug=args.slug,
                time_zone=args.time_zone,
                address=args.address,
            )
        )
    entry = result.entry
    assert entry is not None
    zone = result.venue.settings.time_zone
    print(venue_line(result.venue_id, entry.slug, entry.name, zone, entry.address))
    return 0


def cmd_venues_list(settings: Settings, _: argparse.Namespace) -> int:
    from tablebook.venues_commands import list_venues_in, venue_line

    with resolved(settings) as ready, _needs_migrations():
        assert ready.database_url
        venues = asyncio.run(list_venues_in(ready.database_url))
    for venue in venues:
        print(venue_line(venue.id, venue.slug, venue.name, venue.time_zone, venue.address))
    return 0


def cmd_seed_demo(settings: Settings, _: argparse.Namespace) -> int:
    from tablebook.seed import seed_demo_in

    with resolved(settings) as ready, _needs_migrations():
        assert ready.database_url
        summaries = asyncio.run(seed_demo_in(ready.database_url, time_zone=ready.time_zone))
    for summary in summaries:
        print(summary.line())
    return 0


@contextlib.contextmanager
def _needs_migrations() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.UndefinedTable:
        raise ValueError("the database has no tables yet: run `tablebook db upgrade`") from None


def _bcrypt_rounds(text: str) -> int:
    rounds = int(text)
    if not 4 <= rounds <= 31:
        raise argparse.ArgumentTypeError("bcrypt rounds go from 4 to 31")
    return rounds


def _urls(settings: Settings) -> tuple[str, str, str]:
    assert settings.database_url
    assert settings.redis_url
    return settings.database_url, settings.redis_url, settings.redis_prefix


def cmd_projectors_run(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.projector_commands import run_projectors

    with resolved(settings) as ready:
        asyncio.run(run_projectors(*_urls(ready), names=args.names, settings=ready))
    return 0


def cmd_notifications_run(settings: Settings, _: argparse.Namespace) -> int:
    from tablebook.notifications import run_sender

    with resolved(settings) as ready:
        asyncio.run(run_sender(ready))
    return 0


def cmd_projectors_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.projector_commands import rebuild_projections

    if not args.all and not args.names:
        print("tablebook: name the projections to rebuild, or pass --all", file=sys.stderr)
        return 2
    names = [] if args.all else args.names
    if args.venue is None:
        with resolved(settings) as ready:
            asyncio.run(rebuild_projections(*_urls(ready), names))
        return 0
    from projectors.venue_rebuild import VenueRebuildFailed
    from tablebook.projector_commands import rebuild_venue_projections

    try:
        with resolved(settings) as ready:
            asyncio.run(rebuild_venue_projections(*_urls(ready), names, args.venue))
    except VenueRebuildFailed as error:
        print(f"tablebook: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_projectors_status(settings: Settings, _: argparse.Namespace) -> int:
    from tablebook.projector_commands import show_status

    with resolved(settings) as ready:
        asyncio.run(show_status(*_urls(ready)))
    return 0


def cmd_projectors_unpark(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.projector_commands import unpark

    with resolved(settings) as ready:
        return 0 if asyncio.run(unpark(*_urls(ready), args.name, args.venue)) else 1


def cmd_events_export(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.export import ExportRequest, run_export

    request = ExportRequest.parse(
        format=args.format,
        start=args.start,
        end=args.end,
        stream_prefix=args.stream,
        venue=args.venue,
        types=args.types or (),
        output=args.output,
    )
    with resolved(settings) as ready:
        assert ready.database_url
        asyncio.run(run_export(ready.database_url, request))
    return 0


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from projectors.replay import ReplayNotSettled, check_name
    from read_models.as_of import parse_instant
    from tablebook.replay import replay

    if args.as_of is None or args.into is None:
        raise ValueError("replay needs --as-of INSTANT and --into NAME (or: list, drop NAME)")
    as_of, name = parse_instant(args.as_of), check_name(args.into)
    with resolved(settings) as ready:
        try:
            asyncio.run(replay(*_urls(ready), name=name, as_of=as_of, venue=args.venue))
        except ReplayNotSettled as error:
            print(f"tablebook: {error}", file=sys.stderr)
            return 1
    return 0


def cmd_replay_list(settings: Settings, _: argparse.Namespace) -> int:
    from tablebook.replay import show_replays

    with resolved(settings) as ready:
        asyncio.run(show_replays(*_urls(ready)))
    return 0


def cmd_replay_drop(settings: Settings, args: argparse.Namespace) -> int:
    from projectors.replay import check_name
    from tablebook.replay import drop

    name = check_name(args.name)
    with resolved(settings) as ready:
        return 0 if asyncio.run(drop(*_urls(ready), name)) else 1


def _add_history_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = commands.add_parser("events", help="the event log, for analysts")
    event_commands = events.add_subparsers(dest="events_command", required=True, metavar="COMMAND")
    export = event_commands.add_parser("export", help="events as jsonl, csv or parquet")
    export.add_argument("--format", required=True, help="jsonl, csv or parquet")
    export.add_argument("--from", dest="start", metavar="INSTANT", help="recorded at or after")
    export.add_argument("--to", dest="end", metavar="INSTANT", help="recorded before")
    export.add_argument("--venue", metavar="VENUE", help="only this venue's events (id or slug)")
    export.add_argument("--stream", metavar="PREFIX", help="stream ids starting with PREFIX")
    export.add_argument(
        "--type", dest="types", nargs="+", action="extend", metavar="TYPE", help="only these"
    )
    export.add_argument("--output", "-o", metavar="FILE", help="write here, not to stdout")
    export.set_defaults(handler=cmd_events_export)

    replay = commands.add_parser("replay", help="read models as they stood at an instant")
    replay.add_argument("--as-of", metavar="INSTANT", help="ISO-8601 UTC, e.g. 2026-11-26T19:00Z")
    replay.add_argument("--into", metavar="NAME", help="the replay's name")
    replay.add_argument("--venue", metavar="VENUE", help="only this venue's events (id or slug)")
    replay.set_defaults(handler=cmd_replay)
    replay_commands = replay.add_subparsers(dest="replay_command", metavar="COMMAND")
    replay_commands.add_parser("list", help="replays built so far").set_defaults(
        handler=cmd_replay_list
    )
    drop = replay_commands.add_parser("drop", help="drop a replay's schema and keys")
    drop.add_argument("name", metavar="NAME")
    drop.set_defaults(handler=cmd_replay_drop)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tablebook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="migrate, seed the demo, run API and projectors")
    dev.add_argument("--host")
    dev.add_argument("--port", type=int)
    dev.add_argument("--bcrypt-rounds", type=_bcrypt_rounds, default=12, help=argparse.SUPPRESS)
    dev.set_defaults(handler=cmd_dev)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    projectors = commands.add_parser("projectors", help="the read-model daemon")
    projector_commands = projectors.add_subparsers(
        dest="projectors_command", required=True, metavar="COMMAND"
    )
    run = projector_commands.add_parser("run", help="run projections until SIGTERM or Ctrl-C")
    run.add_argument("names", nargs="*", metavar="NAME", help="only these projections")
    run.set_defaults(handler=cmd_projectors_run)
    rebuild = projector_commands.add_parser("rebuild", help="rebuild from the first event")
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.add_argument("--all", action="store_true", help="every projection")
    rebuild.add_argument(
        "--venue",
        metavar="VENUE",
        help="only this venue's part (its id or slug), while the daemon serves every venue",
    )
    rebuild.set_defaults(handler=cmd_projectors_rebuild)
    status = projector_commands.add_parser("status", help="checkpoints, lag, parked venues")
    status.set_defaults(handler=cmd_projectors_status)
    unpark = projector_commands.add_parser(
        "unpark", help="resume a venue parked for a projection, once the cause is fixed"
    )
    unpark.add_argument("name", metavar="NAME", help="the projection")
    unpark.add_argument("--venue", required=True, metavar="VENUE", help="venue id or slug")
    unpark.set_defaults(handler=cmd_projectors_unpark)

    notifications = commands.add_parser("notifications", help="email and SMS to guests")
    notification_commands = notifications.add_subparsers(
        dest="notifications_command", required=True, metavar="COMMAND"
    )
    notification_commands.add_parser(
        "run", help="deliver due notifications until SIGTERM or Ctrl-C"
    ).set_defaults(handler=cmd_notifications_run)

    users = commands.add_parser("users", help="accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True, metavar="COMMAND")
    admin = users_commands.add_parser("create-admin", help="create an admin, or reset one")
    admin.add_argument("--email", required=True)
    given = admin.add_mutually_exclusive_group()
    given.add_argument("--password", help="default: TABLEBOOK_ADMIN_PASSWORD")
    given.add_argument(
        "--password-file",
        type=Path,
        metavar="PATH",
        help="read the password from this file's first line (e.g. /run/secrets/admin_password)",
    )
    admin.add_argument(
        "--keep-existing",
        action="store_true",
        help="leave an existing account of that email as it is (create the first admin only)",
    )
    admin.add_argument("--name", default="Administrator", help="full name of a new account")
    admin.add_argument("--bcrypt-rounds", type=_bcrypt_rounds, default=12, help="bcrypt cost")
    admin.set_defaults(handler=cmd_users_create_admin)

    venues = commands.add_parser("venues", help="the venues of this deployment")
    venues_commands = venues.add_subparsers(dest="venues_command", required=True, metavar="COMMAND")
    venues_commands.add_parser("list", help="every venue, as the directory lists it").set_defaults(
        handler=cmd_venues_list
    )
    create = venues_commands.add_parser("create", help="open a venue")
    create.add_argument("--name", required=True)
    create.add_argument("--slug", required=True, help="2-60 lower-case letters, digits, hyphens")
    create.add_argument("--time-zone", required=True, help="an IANA zone, e.g. Europe/Lisbon")
    create.add_argument("--address")
    create.set_defaults(handler=cmd_venues_create)

    seed = commands.add_parser("seed-demo", help="the demo restaurant (idempotent)")
    seed.set_defaults(handler=cmd_seed_demo)

    _add_history_commands(commands)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)
    return parser


_UNREACHABLE = (psycopg.OperationalError, sqlalchemy.exc.OperationalError, RedisConnectionError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"tablebook: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return int(args.handler(settings, args))
    except (SettingsError, ValueError) as error:
        print(f"tablebook: {error}", file=sys.stderr)
        return 2
    except (
        psycopg.OperationalError,
        sqlalchemy.exc.OperationalError,
        RedisConnectionError,
    ) as error:
        print(f"tablebook: {unreachable(error)}", file=sys.stderr)
        return 1


def unreachable(error: Exception) -> str:
    """One line for a server that could not be reached, instead of a traceback."""
    cause = error.orig if isinstance(error, sqlalchemy.exc.OperationalError) else error
    server = "Redis" if isinstance(cause, RedisConnectionError) else "PostgreSQL"
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = " ".join(lines[:2]) if lines else type(cause).__name__
    hint = " (create it first, e.g. with createdb)" if "does not exist" in reason else ""
    return f"cannot use {server}: {reason}{hint}"


if __name__ == "__main__":
    sys.exit(main())
