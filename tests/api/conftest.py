"""The real app over HTTP, against the run's PostgreSQL database and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import ApiConfig, Services
from tablebook.runtime import open_services


@pytest.fixture
def api_config() -> ApiConfig:
    return ApiConfig(secret_key="test-secret-key-that-is-long-enough-for-hs256")


@pytest.fixture
def app(api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str) -> Litestar:
    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=4, redis_prefix=redis_prefix)

    return create_app(api_config, services)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client
