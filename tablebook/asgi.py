"""The ASGI entry point `uvicorn` imports in each worker: settings from the environment."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager

from litestar import Litestar

from api.app import create_app
from api.bench_routes import BENCH_ROUTES
from api.services import ApiConfig, Services
from tablebook.logs import configure_logging
from tablebook.runtime import open_services
from tablebook.settings import Settings, SettingsError

__all__ = ["app_for", "create"]


def app_for(settings: Settings) -> Litestar:
    database_url, redis_url = settings.database_url, settings.redis_url
    if not database_url or not redis_url:
        raise SettingsError("DATABASE_URL and REDIS_URL must be set for the API")

    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, redis_prefix=settings.redis_prefix)

    config = ApiConfig(
        secret_key=settings.secret_key,
        cors_origins=settings.cors_origins,
        access_token_minutes=settings.access_token_minutes,
        session_hours=settings.session_hours,
        bcrypt_rounds=settings.bcrypt_rounds,
        login_attempts_per_account=settings.login_attempts_per_account,
        login_attempts_per_address=settings.login_attempts_per_address,
        login_account_alert_failures=settings.login_account_alert_failures,
        login_first_delay_seconds=settings.login_first_delay_seconds,
        login_max_delay_seconds=settings.login_max_delay_seconds,
        registrations_per_address=settings.registrations_per_address,
        public_writes_per_address=settings.public_writes_per_address,
        production=settings.production,
        ready_max_lag_seconds=settings.observe.ready_max_lag_seconds,
        metrics_token=settings.observe.metrics_token,
    )
    app = create_app(config, services)
    if settings.bench_routes:
        for route in BENCH_ROUTES:
            app.register(route)
    return app


def create() -> Litestar:
    settings = Settings.from_env()
    if not logging.getLogger().handlers:  # a worker process uvicorn spawned
        configure_logging(settings.log_level)
    return app_for(settings)
