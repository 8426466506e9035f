"""Fixtures of the dashboard tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.web.browsers import Env, MakeEnv, build_env


@pytest_asyncio.fixture
async def browsers() -> AsyncIterator[MakeEnv]:
    """Makes dashboards (`browsers(**web_settings)`); each hands out browsers with their own
    cookie jars, closed after the test."""
    envs: list[Env] = []

    async def make(**settings: Any) -> Env:
        envs.append(build_env(**settings))
        return envs[-1]

    yield make
    for env in envs:
        for client in reversed(env.clients):
            await client.close()
