"""Shared fixtures: one real, embedded Synapse per test session; fresh users per test."""

from __future__ import annotations

import itertools
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from homeserver_bridge import embedded as embedded_module
from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import admin_client
from homeserver_bridge.settings import HomeserverSettings, RateLimit, RateLimits
from tests.support.nio_threads import bind_nio_models_per_thread
from tests.support.postgres import PostgresServer, PostgresUnavailable, running_postgres

bind_nio_models_per_thread()

TEST_SERVER_NAME = "test.localhost"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Tests create many users and messages quickly; production limits are tested on their own.
GENEROUS_LIMITS = RateLimits(
    messages=RateLimit(1000.0, 10000),
    logins=RateLimit(1000.0, 10000),
    registrations=RateLimit(1000.0, 10000),
)


# bcrypt's work factor for the tests' homeservers: 4, as Synapse's own test suite has it,
# not Synapse's 12. At 12 each registration and each password login cost Synapse a quarter
# of a second of CPU, about 40% of an end-to-end test (three to five accounts each). It is a
# cost, not a behaviour; the rendered production configuration sets none
# (`test_synapse_config`).
TEST_BCRYPT_ROUNDS = 4


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    write = embedded_module.write_homeserver_config

    def write_cheaply(*args: Any, **kwargs: Any) -> Path:
        path = write(*args, **kwargs)
        with path.open("a", encoding="utf-8") as config:
            config.write(f"\nbcrypt_rounds: {TEST_BCRYPT_ROUNDS}\n")
        return path

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedded_module, "write_homeserver_config", write_cheaply)
        yield


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def homeserver_test_settings(**overrides: object) -> HomeserverSettings:
    values: dict[str, object] = {
        "server_name": TEST_SERVER_NAME,
        "port": free_port(),
        "rate_limits": GENEROUS_LIMITS,
        "start_timeout": 90.0,
    }
    values.update(overrides)
    return HomeserverSettings(**values)  # type: ignore[arg-type]


@dataclass
class SynapseHandle:
    base_url: str
    server_name: str
    admin: AdminClient
    embedded: EmbeddedSynapse
    layout: DataLayout
    http: aiohttp.ClientSession

    @property
    def shared_secret(self) -> str:
        return self.layout.registration_secret_file.read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # a fixture value, not a test class

    user_id: str
    password: str
    access_token: str
    device_id: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


UserFactory = Callable[..., Awaitable[TestUser]]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def synapse(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SynapseHandle]:
    """A real Synapse, hardened exactly as in production, on a free loopback port."""
    layout = DataLayout(tmp_path_factory.mktemp("synapse-data"))
    # Each test's bot and staff are named to it as they are made (bot_harness.trust).
    embedded = EmbeddedSynapse(homeserver_test_settings(), layout, trusted=())
    await embedded.start()
    try:
        async with aiohttp.ClientSession() as http:
            admin = await admin_client(embedded.base_url, layout, http)
            yield SynapseHandle(
                embedded.base_url, TEST_SERVER_NAME, admin, embedded, layout, http
            )
    finally:
        await embedded.stop()


_counter = itertools.count(1)


@pytest_asyncio.fixture(loop_scope="session")
async def user_factory(synapse: SynapseHandle) -> UserFactory:
    """``await user_factory("youth")`` registers a fresh user with a unique id."""

    async def make(prefix: str = "user", *, admin: bool = False) -> TestUser:
        localpart = f"{prefix}-{next(_counter)}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        user = await synapse.admin.register_with_shared_secret(
            synapse.shared_secret, localpart, password, admin=admin
        )
        return TestUser(user.user_id, password, user.access_token, user.device_id)

    return make


CHROMIUM = os.environ.get("COUNSEL_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium tries to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium (Debian's, installed by make test), driven by Playwright."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster per session; tests take a fresh database each."""
    try:
        with running_postgres(free_port()) as server:
            yield server
    except PostgresUnavailable as exc:
        # Only a local run may do without it; CI installs it (make test) and must run these.
        if os.environ.get("COUNSEL_SKIP_INTEGRATION") == "1":
            pytest.skip(str(exc))
        raise


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Slow real-homeserver tests can be skipped locally with COUNSEL_SKIP_INTEGRATION=1;
    # CI always runs them.
    if os.environ.get("COUNSEL_SKIP_INTEGRATION") != "1":
        return
    skip = pytest.mark.skip(reason="COUNSEL_SKIP_INTEGRATION=1")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)
