"""What every route handler is given: the services, the accounts, and the write/read rules.

`Api` is built once per process in the app's lifespan and injected as `api`; the signed-in
user comes in as `user` (401 without a valid token) and an admin as `admin` (403 for
anyone else). Writes go through `Api.write`, which gives a command its id and applies
`Idempotency-Key`; reads that accept `X-Consistency-Token` call `Api.consistent` first.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, HTTPException
from redis.asyncio import Redis

from api.accounts.limits import AddressLimiter, LoginLimiter, login_key
from api.accounts.security import TokenService, authenticate, require_admin
from api.accounts.users import PasswordHasher, User, UserStore
from api.refused import Refused
from api.services import ApiConfig, Services
from booking_core.domain.commands import Actor
from booking_core.store import ConsistencyToken, EventStore, IdempotencyKey
from read_models.availability import Snapshot, snapshot_for
from read_models.consistency import wait_for_projections

__all__ = [
    "TOKEN_FORM",
    "AdminDep",
    "Api",
    "ApiDep",
    "UserDep",
    "WriteContext",
    "Written",
    "actor_of",
    "bad_cursor",
    "cursor_decode",
    "cursor_encode",
    "forget_replays",
    "json_body",
    "provide_admin",
    "provide_user",
]

T = TypeVar("T")

CONSISTENCY_HEADER = "X-Consistency-Token"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOKEN_FORM = re.compile(r"^(0|[0-9]{1,19}-[0-9]{1,19})$")
"""`X-Consistency-Token`: a write's `tx-position`, or `0` (before any write: no wait)."""
_NAMESPACE = uuid.UUID("6f1c2a6e-2b8e-4f5e-9a57-8f0d1c3b7a10")
_REPLAY_SECONDS = 24 * 3600
_REPLAYS = "idem:"
"""Where the kept first responses live, under the Redis prefix: `idem:{digest}`."""
_MAX_KEY = 200


def json_body(body: bytes) -> Response[Any]:
    """A 200 whose body is JSON already encoded (the route's return annotation still says
    what it holds, for the schema)."""
    return Response(content=body, media_type="application/json")


def cursor_encode(*parts: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(parts))).decode().rstrip("=")


def cursor_decode(cursor: str, arity: int) -> list[Any]:
    """The parts of a cursor made by `cursor_encode`; 422 for a string that is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        parts = None
    if not isinstance(parts, list) or len(parts) != arity or not all(map(_plain_part, parts)):
        raise bad_cursor()
    return parts


def _plain_part(part: Any) -> bool:
    """A part `cursor_encode` could have written: text without NUL, or a number. A cursor
    is client input like any other, and its text goes on to PostgreSQL."""
    if isinstance(part, str):
        return "\x00" not in part
    return isinstance(part, int | float) and not isinstance(part, bool)


def bad_cursor() -> HTTPException:
    """A cursor of the documented shape that this API never gave out: 422."""
    return Refused(422, "cursor: not one this API gave out", "invalid-cursor")


@dataclass(frozen=True, slots=True)
class WriteContext:
    """What a write needs to build its command: ids that stay the same when the request
    is repeated with the same `Idempotency-Key`."""

    actor: Actor
    command_id: str
    idempotency: IdempotencyKey | None
    venue_id: str
    """The venue whose streams the command is decided against."""

    def new_id(self, kind: str) -> str:
        """A fresh id for something this request creates (`bkg_…`, `tbl_…`)."""
        return f"{kind}_{uuid.uuid5(_NAMESPACE, f'{self.command_id}:{kind}').hex}"


class _Replay(msgspec.Struct, frozen=True):
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]


class Api:
    """Injected as `api: ApiDep` into every route that needs the services."""

    def __init__(self, config: ApiConfig, services: Services) -> None:
        self.config = config
        self.services = services
        self.users = UserStore(services.pool, services.accounts)
        self.tokens = TokenService(
            config.secret_key, config.access_token_minutes, config.session_hours
        )
        self.passwords = PasswordHasher(config.bcrypt_rounds)
        self.logins = LoginLimiter(
            services.redis,
            services.redis_prefix,
            per_account=config.login_attempts_per_account,
            per_address=config.login_attempts_per_address,
            account_alert=config.login_account_alert_failures,
            first_delay_seconds=config.login_first_delay_seconds,
            max_delay_seconds=config.login_max_delay_seconds,
            key=login_key(config.secret_key),
        )
        self.registrations = AddressLimiter(
            services.redis,
            services.redis_prefix,
            "registrations",
            limit=config.registrations_per_address,
            window_seconds=3600,
        )
        self.public_writes = AddressLimiter(
            services.redis,
            services.redis_prefix,
            "public-writes",
            limit=config.public_writes_per_address,
            window_seconds=config.public_window_seconds,
        )

    @property
    def store(self) -> EventStore:
        return self.services.store

    # --- reads ------------------------------------------------------------------------

    async def consistent(
        self,
        request: Request[Any, Any, Any],
        *,
        sql: Sequence[str] = (),
        redis: Sequence[str] = (),
    ) -> None:
        """Wait until the named projections include the request's consistency token."""
        raw = request.headers.get(CONSISTENCY_HEADER)
        if raw is None or raw == "0":
            return
        if not TOKEN_FORM.fullmatch(raw):
            raise ClientException(
                detail=f"{CONSISTENCY_HEADER} must be a token from a write's response, or 0."
            )
        token = ConsistencyToken.parse(raw)
        await wait_for_projections(
            token,
            pool=self.services.pool,
            redis=self.services.redis,
            redis_prefix=self.services.redis_prefix,
            sql=sql,
            redis_names=redis,
            timeout=self.config.consistency_timeout,
        )

    async def availability(
        self, venue_id: str, day: dt.date, max_staleness: float = 0.0
    ) -> Snapshot:
        """The venue's availability model around `day` (see
        `read_models.availability.snapshot_for`)."""
        return await snapshot_for(
            self.services.redis, self.services.redis_prefix, venue_id, day, max_staleness
        )

    # --- writes -----------------------------------------------------------------------

    async def write(
        self,
        request: Request[Any, Any, Any],
        actor: Actor,
        run: Callable[[WriteContext], Awaitable[Written[T]]],
        *,
        venue_id: str,
    ) -> Response[T]:
        """Run a write under the request's `Idempotency-Key`.

        Without a key, each request is a new command. With one, the command id (and every
        id the request creates) derives from the user and the key, and the event store
        records the key with the request's fingerprint in the same transaction as the
        events. The first response is kept for a day (as `Written.replayed` has it, when
        given): a repeat with the same body gets it back; a repeat with another body is a
        422. If the kept copy is gone, the repeat runs again, is recognised by its command
        id, and answers with the current state.
        """
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            written = await run(WriteContext(actor, uuid.uuid4().hex, None, venue_id))
            return _respond(_Replay("", written.status, _json(written.body), written.headers_out()))
        key = key.strip()
        if not key or len(key) > _MAX_KEY or not (key.isascii() and key.isprintable()):
            raise ClientException(
                detail=f"{IDEMPOTENCY_HEADER}: must be 1 to {_MAX_KEY} printable ASCII characters"
            )
        body = await request.body()
        fingerprint = hashlib.sha256(
            b"\0".join([request.method.encode(), request.url.path.encode(), body])
        ).hexdigest()
        scoped = f"{actor.user_id}:{key}"
        digest = hashlib.sha256(scoped.encode()).hexdigest()
        replay_key = f"{self.services.redis_prefix}{_REPLAYS}{digest}"
        kept = await self.services.redis.get(replay_key)
        if kept is not None:
            replay = _replays.decode(bytes(kept) if isinstance(kept, bytes) else kept.encode())
            if replay.fingerprint != fingerprint:
                raise key_reused()
            return _respond(replay, replayed=True)
        command_id = uuid.uuid5(_NAMESPACE, scoped).hex
        idempotency = IdempotencyKey(key=scoped, fingerprint=fingerprint)
        written = await run(WriteContext(actor, command_id, idempotency, venue_id))
        answer = _Replay(fingerprint, written.status, _json(written.body), written.headers_out())
        copy = answer
        if written.replayed is not None:
            copy = msgspec.structs.replace(answer, body=_json(written.replayed))
        await self.services.redis.set(  # nx: concurrent repeats keep the first copy
            replay_key, msgspec.msgpack.encode(copy), ex=_REPLAY_SECONDS, nx=True
        )
        return _respond(answer)

    async def forget_replays(self) -> int:
        """`forget_replays` on this deployment's Redis: call it once an erasure commits."""
        return await forget_replays(self.services.redis, self.services.redis_prefix)


async def forget_replays(redis: Redis, prefix: str) -> int:
    """Delete every kept first response (`Idempotency-Key`); answer how many there were.

    A booking's response holds the guest's name, phone and email as they were when it was
    written, and the copy is kept under a digest of who asked and their key, not of whose
    data it holds: after an erasure, none may remain. A repeat that finds its copy gone
    runs again, is recognised by its command id and answers with the current state (see
    `Api.write`), in which the erased person reads as erased. Erasures are rare; the
    copies are a day's writes at most.
    """
    pattern = re.sub(r"([\\*?\[\]])", r"\\\1", prefix) + _REPLAYS + "*"
    forgotten = 0
    batch: list[Any] = []
    async for key in redis.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) == 500:
            forgotten += await redis.unlink(*batch)
            batch.clear()
    if batch:
        forgotten += await redis.unlink(*batch)
    return forgotten


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """A write's answer: the body, its status, and the token of what it appended."""

    body: T
    token: ConsistencyToken | None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    replayed: T | None = None
    """What a repeat under the same `Idempotency-Key` gets back, when it is not `body`:
    a body holding a credential given only once keeps it out of the copy kept in Redis."""

    def headers_out(self) -> dict[str, str]:
        out = dict(self.headers)
        if self.token is not None:
            out[CONSISTENCY_HEADER] = str(self.token)
        return out


def _json(body: Any) -> bytes:
    return msgspec.json.encode(body)


_replays = msgspec.msgpack.Decoder(_Replay)


def _respond(replay: _Replay, *, replayed: bool = False) -> Response[Any]:
    headers = dict(replay.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        replay.body, status_code=replay.status, headers=headers, media_type="application/json"
    )


def key_reused() -> HTTPException:
    return Refused(
        422,
        f"This {IDEMPOTENCY_HEADER} was already used for a different request.",
        "idempotency-key-reused",
    )


async def provide_user(request: Request[Any, Any, Any], api: ApiDep) -> User:
    known = request.state.get("user")
    if isinstance(known, User):
        return known
    return await authenticate(request, api.tokens, api.users)


async def provide_admin(user: UserDep) -> User:
    return require_admin(user)


ApiDep = NamedDependency[Api]
UserDep = NamedDependency[User]
"""The signed-in user; 401 without a valid access token."""
AdminDep = NamedDependency[User]
"""The signed-in admin; 403 for any other role."""


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=user.role)
