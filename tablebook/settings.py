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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEVELOPMENT_SECRET_KEY", "Settings", "SettingsError", "load_dotenv"]

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 - refused in production


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
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    access_token_minutes: int = 60
    log_level: str = "INFO"
    time_zone: str = "Europe/London"
    """The demo restaurant's time zone (`seed-demo`, `dev`); a venue keeps its own."""
    admin_password: str | None = None
    """The demo admin's password for `dev`, and `users create-admin`'s default."""
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)

    @property
    def production(self) -> bool:
        return self.environment == "production"

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
            redis_url=env.get("REDIS_URL") or None,
            redis_prefix=_prefix(env.get("REDIS_PREFIX") or "tb:"),
            secret_key=env.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY,
            cors_origins=_split(env.get("CORS_ORIGINS", "")),
            data_dir=Path(env.get("TABLEBOOK_DATA_DIR") or ".data"),
            host=env.get("TABLEBOOK_HOST") or "127.0.0.1",
            port=_int(env, "TABLEBOOK_PORT", 8000),
            access_token_minutes=_int(env, "ACCESS_TOKEN_MINUTES", 60),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            time_zone=_time_zone(env.get("TABLEBOOK_TIME_ZONE") or "Europe/London"),
            admin_password=env.get("TABLEBOOK_ADMIN_PASSWORD") or None,
            smtp=SmtpSettings(
                host=env.get("SMTP_HOST") or None,
                port=_int(env, "SMTP_PORT", 587),
                user=env.get("SMTP_USER") or None,
                password=env.get("SMTP_PASSWORD") or None,
                sender=env.get("SMTP_FROM") or "tablebook@localhost",
                starttls=env.get("SMTP_STARTTLS", "true").lower() not in {"0", "false", "no"},
            ),
            twilio=TwilioSettings(
                account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
                auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
                sender=env.get("TWILIO_FROM") or None,
                api_base=env.get("TWILIO_API_BASE") or "https://api.twilio.com",
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
