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

    with resolved(settings) as ready:
        _export(ready)
        uvicorn.run(
            "tablebook.asgi:create",
            factory=True,
            host=args.host or ready.host,
            port=args.port or ready.port,
            workers=args.workers,
            log_config=None,
            access_log=False,
        )
    return 0


async def _serve_dev(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from tablebook.asgi import app_for

    server = uvicorn.Server(
        uvicorn.Config(app_for(settings), host=host, port=port, log_config=None, access_log=False)
    )
    log.info(
        "serving", extra={"url": f"http://{host}:{port}", "docs": f"http://{host}:{port}/docs"}
    )
    await server.serve()


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    with resolved(settings) as ready:
        assert ready.database_url
        _export(ready)
        migrate(ready.database_url)
        log.info("migrations applied")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve_dev(ready, args.host or ready.host, args.port or ready.port))
    log.info("stopped")
    return 0


def _urls(settings: Settings) -> tuple[str, str, str]:
    assert settings.database_url
    assert settings.redis_url
    return settings.database_url, settings.redis_url, settings.redis_prefix


def cmd_projectors_run(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.projector_commands import run_projectors

    with resolved(settings) as ready:
        asyncio.run(run_projectors(*_urls(ready), names=args.names))
    return 0


def cmd_projectors_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from tablebook.projector_commands import rebuild_projections

    if not args.all and not args.names:
        print("tablebook: name the projections to rebuild, or pass --all", file=sys.stderr)
        return 2
    with resolved(settings) as ready:
        asyncio.run(rebuild_projections(*_urls(ready), [] if args.all else args.names))
    return 0


def cmd_projectors_status(settings: Settings, _: argparse.Namespace) -> int:
    from tablebook.projector_commands import show_status

    with resolved(settings) as ready:
        asyncio.run(show_status(*_urls(ready)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tablebook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="embedded servers if needed, migrate, serve")
    dev.add_argument("--host")
    dev.add_argument("--port", type=int)
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
    rebuild.set_defaults(handler=cmd_projectors_rebuild)
    status = projector_commands.add_parser("status", help="checkpoints and lag")
    status.set_defaults(handler=cmd_projectors_status)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)
    return parser


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


if __name__ == "__main__":
    sys.exit(main())
