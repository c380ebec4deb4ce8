"""Limits on what anyone on the internet may try: guessing passwords (`LoginLimiter`:
growing waits for the address that fails, never an account lockout) and writes that need
no account (`AddressLimiter`: registering, the public booking page). Counted in Redis per
client address (`client_address`); a refusal is a 429 with `Retry-After`
(`TooManyAttempts`). Why and how to set them: docs/operations.md, "Hardening".
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from redis.asyncio import Redis

__all__ = [
    "AddressLimiter",
    "LoginAttempt",
    "LoginLimiter",
    "TooManyAttempts",
    "client_address",
    "login_key",
]


def login_key(secret_key: str) -> bytes:
    """The key `LoginLimiter` names accounts under, derived from the service's secret."""
    return hashlib.sha256(b"tablebook sign-in limits\0" + secret_key.encode()).digest()


class TooManyAttempts(Exception):
    """Answered with a 429 problem of `kind`, saying `Retry-After`."""

    def __init__(
        self,
        retry_after: int,
        detail: str = "Too many failed sign-in attempts; wait before trying again.",
        kind: str = "too-many-attempts",
    ) -> None:
        super().__init__(f"{detail} (retry in {retry_after} s)")
        self.retry_after = retry_after
        self.detail = detail
        self.kind = kind


def _plain(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _wait_seconds(pttl: int | None) -> int:
    """Whole seconds (at least 1) from milliseconds, Redis' PTTL of a window or a wait."""
    return max(1, math.ceil((pttl if pttl and pttl > 0 else 1000) / 1000))


@dataclass(frozen=True, slots=True)
class AddressLimiter:
    """At most `limit` requests of one kind per client address in a fixed window, counted
    in Redis: the writes that need no account (registering one, the public booking
    page's). Past the limit the request is refused with 429 and the window's remaining
    time."""

    redis: Redis
    prefix: str
    name: str
    limit: int
    window_seconds: int

    async def hit(self, address: str) -> None:
        key = f"{self.prefix}limit:{self.name}:{address}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window_seconds, nx=True)
            pipe.pttl(key)
            count, _, pttl = await pipe.execute()
        if int(count) > self.limit:
            seconds = _wait_seconds(pttl)
            raise TooManyAttempts(
                seconds,
                f"Too many requests from this address; try again in {_plain(seconds)}.",
                "too-many-requests",
            )


def client_address(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address as limits count it: the peer, or the client a listed proxy
    names (`FORWARDED_ALLOW_IPS`). An IPv6 client is counted by its /64, which one
    household or one server holds whole, so hopping between its addresses gains nothing."""
    host = request.client.host if request.client else "unknown"
    try:
        parsed = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    """Failed sign-ins slow down the address that fails, never the account as a whole.

    - An address may give `per_account` wrong passwords for one account, and `per_address`
      over all accounts, for free. Each failure past either makes that address (for that
      account, or for every account) wait: `first_delay_seconds`, doubled with each further
      failure, at most `max_delay_seconds`. While it waits, its attempts are refused (429,
      `Retry-After`) before the password is checked, right or wrong, and do not count.
      An attempt counts as a failure from the moment it starts until it succeeds, so
      guesses sent all at once cannot slip past the count before the first is checked.
    - The right password from an address that has not been failing is never refused:
      fifty wrong guesses from one place cannot lock the real admin out of another.
    - Guesses spread over many addresses: once an account has had `account_alert` failures
      from anywhere, an address's free failures for it are void, so every address that
      fails against it waits from its first failure on. Addresses that have not failed
      against it are let through as before. The trade-off: a botnet still gets a guess per
      address per wait (an account-wide wait would stop it, and lock the owner out too);
      bcrypt and the password length rule are what make those guesses worthless.
    - Counters forget `memory_seconds` after their last failure (an attempt that succeeds
      does not keep them). A successful sign-in clears the address+account counter and its
      wait; not the address's counter (it counts other accounts) nor the account's (the
      owner signing in does not end an attack on it). An attempt that ends in neither (a
      server fault) is taken back whole.

    Accounts are keyed by an HMAC of the email under `key` (derived from the secret key),
    so Redis holds no email addresses, nor digests anyone could match against a list.
    """

    redis: Redis
    prefix: str
    per_account: int = 5
    per_address: int = 20
    account_alert: int = 50
    first_delay_seconds: float = 1.0
    max_delay_seconds: int = 900
    memory_seconds: int = 86_400
    key: bytes = b""

    def _account(self, email: str) -> str:
        digest = hmac.new(self.key, email.strip().lower().encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def _keys(self, email: str, address: str) -> tuple[str, str, str]:
        """The failure counters: address+account, address, account."""
        account = self._account(email)
        return (
            f"{self.prefix}login:fails:pair:{address}:{account}",
            f"{self.prefix}login:fails:address:{address}",
            f"{self.prefix}login:fails:account:{account}",
        )

    def wait_keys(self, email: str, address: str) -> tuple[str, str]:
        """Set while the address (for the account, or for every account) must wait."""
        return (
            f"{self.prefix}login:wait:pair:{address}:{self._account(email)}",
            f"{self.prefix}login:wait:address:{address}",
        )

    async def attempt(self, email: str, address: str) -> LoginAttempt:
        """Count a sign-in as failed until it succeeds; 429 while the address must wait.

        One script, so a burst of guesses sent at once sees its own count rising: past the
        free ones the first of them starts the wait and the rest are refused."""
        keys = (*self._keys(email, address), *self.wait_keys(email, address))
        left, started_address_wait, started_pair_wait = await self.redis.eval(
            _ATTEMPT,
            len(keys),
            *keys,
            self.per_account,
            self.per_address,
            self.account_alert,
            int(self.first_delay_seconds * 1000),
            self.max_delay_seconds * 1000,
            self.memory_seconds,
        )
        if int(left) > 0:
            seconds = _wait_seconds(int(left))
            raise TooManyAttempts(
                seconds,
                f"Too many wrong passwords from this address; try again in {_plain(seconds)}.",
            )
        return LoginAttempt(keys, bool(started_address_wait), bool(started_pair_wait))

    async def failed(self, attempt: LoginAttempt) -> None:
        """The password was wrong: the counters are remembered `memory_seconds` from now."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in attempt.keys[:3]:
                pipe.expire(key, self.memory_seconds)
            await pipe.execute()

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: clear the address+account counter and its wait, and
        take back what the attempt added to the address's and the account's."""
        await self._take_back(attempt, clear_pair=True)

    async def withdrawn(self, attempt: LoginAttempt) -> None:
        """The attempt ended in a fault before the password was judged: take back all it
        added, so a client retrying through an outage is not counted as guessing."""
        await self._take_back(attempt, clear_pair=False)

    async def _take_back(self, attempt: LoginAttempt, *, clear_pair: bool) -> None:
        await self.redis.eval(
            _TAKEN_BACK,
            len(attempt.keys),
            *attempt.keys,
            int(clear_pair),
            int(attempt.started_pair_wait),
            int(attempt.started_address_wait),
        )


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A sign-in under way: its Redis keys, and whether it started the address's wait."""

    keys: tuple[str, ...]
    started_address_wait: bool
    started_pair_wait: bool = False


_ATTEMPT = """
-- KEYS: failures of the address+account, the address, the account; the two waits.
-- ARGV: per_account, per_address, account_alert, first_ms, max_ms, memory_seconds.
local left = math.max(redis.call('PTTL', KEYS[4]), redis.call('PTTL', KEYS[5]))
if left > 0 then return {left, 0, 0} end
local counts = {}
for i = 1, 3 do
  counts[i] = redis.call('INCR', KEYS[i])
  -- A new counter only: a failure renews it (`failed`), an attempt that succeeds does not.
  redis.call('EXPIRE', KEYS[i], ARGV[6], 'NX')
end
local function wait(failures, free)
  if failures <= free then return 0 end
  local ms = tonumber(ARGV[4]) * 2 ^ math.min(failures - free - 1, 40)
  return math.floor(math.min(ms, tonumber(ARGV[5])))
end
local free = tonumber(ARGV[1])
if counts[3] >= tonumber(ARGV[3]) then free = 0 end
local pair_ms = wait(counts[1], free)
if pair_ms > 0 then redis.call('SET', KEYS[4], 1, 'PX', pair_ms) end
local address_ms = wait(counts[2], tonumber(ARGV[2]))
if address_ms > 0 then redis.call('SET', KEYS[5], 1, 'PX', address_ms) end
return {0, address_ms > 0 and 1 or 0, pair_ms > 0 and 1 or 0}
"""

_TAKEN_BACK = """
-- KEYS: as for an attempt. ARGV: 1 to clear the address+account counter and its wait
-- (a success); 1 if the attempt started the pair's wait; 1 if it started the address's.
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1], KEYS[4])
else
  if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
  if ARGV[2] == '1' then redis.call('DEL', KEYS[4]) end
end
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
if ARGV[3] == '1' then redis.call('DEL', KEYS[5]) end
return 0
"""
