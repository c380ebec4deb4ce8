"""Settings, read once from the environment (and a `.env` file) at the composition root.

Everything below `tablebook/` receives a `Settings`; nothing else reads the environment.
In production every secret and address must be given: start-up stops with one line
naming the first setting that is missing or still at its development default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tablebook.redis_url import check_redis_url

__all__ = [
    "DEVELOPMENT_PUBLIC_BASE_URL",
    "DEVELOPMENT_SECRET_KEY",
    "NotificationSettings",
    "Settings",
    "SettingsError",
    "SmtpSettings",
    "TwilioSettings",
    "load_dotenv",
]

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 - refused in production
DEVELOPMENT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
"""Where guests reach the service in development; production must name its own."""


class SettingsError(Exception):
    """A setting is missing or unusable; the message names it."""


def load_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: `KEY=value` lines, `#` comments, optional quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _prefix(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value):
        raise SettingsError(
            f"REDIS_PREFIX may hold only letters, digits and _.:- (1-64 of them), not {value!r}"
        )
    return value


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"TABLEBOOK_TIME_ZONE must be an IANA time zone, not {name!r}"
        ) from None
    return name


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if not 0 <= value <= 65535:
        raise SettingsError(f"{name} must be a port number (0 for none), not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be greater than zero, not {raw!r}")
    return value


def _base_url(raw: str) -> str:
    """An absolute http(s) address without a trailing slash (links are appended to it)."""
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(f"PUBLIC_BASE_URL must be an http(s) address, not {raw!r}")
    if parts.query or parts.fragment:
        raise SettingsError(f"PUBLIC_BASE_URL must have no query or fragment, not {raw!r}")
    return value


def _redis_url(raw: str | None) -> str | None:
    try:
        return check_redis_url(raw) if raw else None
    except ValueError as error:
        raise SettingsError(str(error)) from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in {"0", "false", "no", "off"}


@dataclass(frozen=True)
class NotificationSettings:
    """When reminders go out and how the sender retries; see `tablebook.notifications`."""

    reminder_minutes: int = 24 * 60
    with_projectors: bool = True
    max_attempts: int = 5
    timeout_seconds: float = 10.0
    backoff_seconds: float = 30.0
    poll_seconds: float = 1.0
    max_age_minutes: int = 24 * 60
    lease_seconds: float = 120.0


@dataclass(frozen=True)
class ObserveSettings:
    """Metrics and readiness; see docs/operations.md, "Metrics, logs and readiness"."""

    ready_max_lag_seconds: float = 10.0
    metrics_token: str | None = None
    """When set, the API's `GET /metrics` wants it as a bearer token."""
    projector_metrics_port: int = 0
    """The projector daemon's metrics port; 0 serves none."""
    projector_metrics_host: str = "127.0.0.1"


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "tablebook@localhost"
    starttls: bool = True


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str | None = None
    auth_token: str | None = None
    sender: str | None = None
    api_base: str = "https://api.twilio.com"


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "tb:"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    cors_origins: tuple[str, ...] = ()
    forwarded_allow_ips: tuple[str, ...] = ()
    """Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed (addresses or
    networks, `*` for any). None by default: anyone can send those headers, and the
    client address they claim is what sign-in limits count per address."""
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    access_token_minutes: int = 60
    session_hours: int = 16
    """How long a session may be kept alive by refreshing its token, from the sign-in."""
    bcrypt_rounds: int = 12
    login_attempts_per_account: int = 5
    """Wrong passwords one client address may give for one account before each further
    one makes it wait, twice as long each time (`LOGIN_ATTEMPTS_PER_ACCOUNT`)."""
    login_attempts_per_address: int = 20
    """Likewise over all accounts (`LOGIN_ATTEMPTS_PER_ADDRESS`)."""
    login_account_alert_failures: int = 50
    """Wrong passwords for one account from anywhere after which an address that fails
    against it waits from its first failure on (`LOGIN_ACCOUNT_ALERT_FAILURES`)."""
    login_first_delay_seconds: int = 1
    """The first wait, doubled with each further failure (`LOGIN_FIRST_DELAY_SECONDS`)."""
    login_max_delay_seconds: int = 900
    """The longest wait a failing address is given (`LOGIN_MAX_DELAY_SECONDS`)."""
    registrations_per_address: int = 20
    """Accounts one client address may register an hour (`REGISTRATIONS_PER_ADDRESS`)."""
    public_writes_per_address: int = 30
    """Bookings, changes and cancellations from the public booking page per client address
    in ten minutes (`PUBLIC_WRITES_PER_ADDRESS`)."""
    log_level: str = "INFO"
    time_zone: str = "Europe/London"
    """The demo restaurant's time zone (`seed-demo`, `dev`); a venue keeps its own."""
    admin_password: str | None = None
    """The demo admin's password for `dev`, and `users create-admin`'s default."""
    bench_routes: bool = False
    """Mount `GET /bench/hello`, the baseline of `make bench`; refused in production."""
    public_base_url: str = DEVELOPMENT_PUBLIC_BASE_URL
    """The service's address as guests reach it (scheme and host, no trailing slash): the
    links in emails (`/book/{slug}?booking=…#token=…`) start with it."""
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    projector_lease_seconds: float = 3.0
    """How long a projector daemon's lease lasts unrenewed (`PROJECTOR_LEASE_SECONDS`): a
    standby takes over from a frozen or cut-off holder within this long (plus a twelfth
    of it), from one whose process died within a twelfth of it."""
    observe: ObserveSettings = field(default_factory=ObserveSettings)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: read only from `forwarded_allow_ips`.
        (uvicorn would otherwise trust them from 127.0.0.1, so anything on the same host
        could pose as any client; the `Forwarded` header it never reads.)"""
        return {
            "proxy_headers": bool(self.forwarded_allow_ips),
            "forwarded_allow_ips": list(self.forwarded_allow_ips),
        }

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """Read the settings; real environment variables win over the `.env` file."""
        env: dict[str, str] = load_dotenv(dotenv) if dotenv is not None else {}
        env.update(os.environ if environ is None else environ)
        environment = env.get("TABLEBOOK_ENV", "development").strip() or "development"
        if environment not in {"development", "production"}:
            raise SettingsError(
                f"TABLEBOOK_ENV must be 'development' or 'production', not {environment!r}"
            )
        settings = cls(
            environment=environment,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=_redis_url(env.get("REDIS_URL")),
            redis_prefix=_prefix(env.get("REDIS_PREFIX") or "tb:"),
            secret_key=env.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY,
            cors_origins=_split(env.get("CORS_ORIGINS", "")),
            forwarded_allow_ips=_split(env.get("FORWARDED_ALLOW_IPS", "")),
            data_dir=Path(env.get("TABLEBOOK_DATA_DIR") or ".data"),
            host=env.get("TABLEBOOK_HOST") or "127.0.0.1",
            port=_int(env, "TABLEBOOK_PORT", 8000),
            access_token_minutes=_int(env, "ACCESS_TOKEN_MINUTES", 60),
            session_hours=max(1, _int(env, "SESSION_HOURS", 16)),
            bcrypt_rounds=min(max(_int(env, "BCRYPT_ROUNDS", 12), 4), 16),
            login_attempts_per_account=max(1, _int(env, "LOGIN_ATTEMPTS_PER_ACCOUNT", 5)),
            login_attempts_per_address=max(1, _int(env, "LOGIN_ATTEMPTS_PER_ADDRESS", 20)),
            login_account_alert_failures=max(1, _int(env, "LOGIN_ACCOUNT_ALERT_FAILURES", 50)),
            login_first_delay_seconds=max(1, _int(env, "LOGIN_FIRST_DELAY_SECONDS", 1)),
            login_max_delay_seconds=max(1, _int(env, "LOGIN_MAX_DELAY_SECONDS", 900)),
            registrations_per_address=max(1, _int(env, "REGISTRATIONS_PER_ADDRESS", 20)),
            public_writes_per_address=max(1, _int(env, "PUBLIC_WRITES_PER_ADDRESS", 30)),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            time_zone=_time_zone(env.get("TABLEBOOK_TIME_ZONE") or "Europe/London"),
            admin_password=env.get("TABLEBOOK_ADMIN_PASSWORD") or None,
            bench_routes=_flag(env, "TABLEBOOK_BENCH_ROUTES", False),
            public_base_url=_base_url(env.get("PUBLIC_BASE_URL") or DEVELOPMENT_PUBLIC_BASE_URL),
            smtp=SmtpSettings(
                host=env.get("SMTP_HOST") or None,
                port=_int(env, "SMTP_PORT", 587),
                user=env.get("SMTP_USER") or None,
                password=env.get("SMTP_PASSWORD") or None,
                sender=env.get("SMTP_FROM") or "tablebook@localhost",
                starttls=_flag(env, "SMTP_STARTTLS", True),
            ),
            twilio=TwilioSettings(
                account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
                auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
                sender=env.get("TWILIO_FROM") or None,
                api_base=env.get("TWILIO_API_BASE") or "https://api.twilio.com",
            ),
            notifications=NotificationSettings(
                reminder_minutes=_int(env, "NOTIFY_REMINDER_MINUTES", 24 * 60),
                with_projectors=_flag(env, "NOTIFY_WITH_PROJECTORS", True),
                max_attempts=max(1, _int(env, "NOTIFY_MAX_ATTEMPTS", 5)),
                timeout_seconds=_float(env, "NOTIFY_TIMEOUT_SECONDS", 10.0),
                backoff_seconds=_float(env, "NOTIFY_BACKOFF_SECONDS", 30.0),
                poll_seconds=_float(env, "NOTIFY_POLL_SECONDS", 1.0),
                max_age_minutes=_int(env, "NOTIFY_MAX_AGE_MINUTES", 24 * 60),
                lease_seconds=_float(env, "NOTIFY_LEASE_SECONDS", 120.0),
            ),
            projector_lease_seconds=_float(env, "PROJECTOR_LEASE_SECONDS", 3.0),
            observe=ObserveSettings(
                ready_max_lag_seconds=_float(env, "READY_MAX_LAG_SECONDS", 10.0),
                metrics_token=env.get("METRICS_TOKEN") or None,
                projector_metrics_port=_port(env, "PROJECTOR_METRICS_PORT", 0),
                projector_metrics_host=env.get("PROJECTOR_METRICS_HOST") or "127.0.0.1",
            ),
        )
        if settings.production:
            settings.check_production()
        return settings

    def check_production(self) -> None:
        """Refuse to run production on development defaults."""
        if not self.database_url:
            raise SettingsError("DATABASE_URL must be set in production")
        if not self.redis_url:
            raise SettingsError("REDIS_URL must be set in production")
        if self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise SettingsError("SECRET_KEY must be set in production (not the default)")
        if len(self.secret_key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters in production")
        if self.bench_routes:
            raise SettingsError("TABLEBOOK_BENCH_ROUTES must be off in production")
        if self.bcrypt_rounds < 10:
            raise SettingsError("BCRYPT_ROUNDS must be at least 10 in production")
        if self.public_base_url == DEVELOPMENT_PUBLIC_BASE_URL:
            raise SettingsError("PUBLIC_BASE_URL must be set in production (not the default)")
        if "*" in self.forwarded_allow_ips:
            raise SettingsError(
                "FORWARDED_ALLOW_IPS must name the proxies' addresses or networks in"
                " production, not *: with *, any client could name its own address"
                " in X-Forwarded-For and escape the per-address limits"
            )
