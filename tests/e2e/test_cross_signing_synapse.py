"""Cross-signing the bot against a real Synapse, with a real nio device."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from nio import AsyncClient, AsyncClientConfig, KeysUploadResponse, LoginResponse

from e2e.cross_signing import CrossSigningSeeds
from e2e.cross_signing_upload import ensure_cross_signed
from e2e.device_trust import OwnerTrust, owner_trust
from e2e.errors import CrossSigningError
from e2e.vault import KdfParams, Vault
from tests.conftest import SynapseHandle, UserFactory

log = logging.getLogger(__name__)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


class BotDevice:
    """A logged-in nio device whose identity keys are published."""

    def __init__(self, user_id: str, password: str, device_id: str, access_token: str) -> None:
        self.user_id = user_id
        self.password = password
        self.device_id = device_id
        self.access_token = access_token


async def nio_device(synapse: SynapseHandle, user_factory: UserFactory, store: Path) -> BotDevice:
    user = await user_factory("bot")
    # The pickle key comes from the vault, as in the bot (never nio's default).
    vault = Vault.create(store / "vault.json", "test", KdfParams(1, 8, 1))
    config = AsyncClientConfig(
        encryption_enabled=True, pickle_key=vault.derive_secret("nio-pickle-key").hex()
    )
    client = AsyncClient(synapse.base_url, user.user_id, store_path=str(store), config=config)
    try:
        login = await client.login(user.password, device_name="counsel bot")
        assert isinstance(login, LoginResponse), login
        upload = await client.keys_upload()
        assert isinstance(upload, KeysUploadResponse), upload
        return BotDevice(user.user_id, user.password, login.device_id, login.access_token)
    finally:
        await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest_asyncio.fixture(loop_scope="session")
async def bot(synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path) -> BotDevice:
    return await nio_device(synapse, user_factory, tmp_path)


async def keys_query(
    http: aiohttp.ClientSession, synapse: SynapseHandle, bot: BotDevice
) -> dict[str, Any]:
    async with http.post(
        f"{synapse.base_url}/_matrix/client/v3/keys/query",
        json={"device_keys": {bot.user_id: []}},
        headers={"Authorization": f"Bearer {bot.access_token}"},
    ) as response:
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
        return answer


async def ensure(
    http: aiohttp.ClientSession,
    synapse: SynapseHandle,
    bot: BotDevice,
    seeds: CrossSigningSeeds,
    password: str | None,
) -> bool:
    return await ensure_cross_signed(
        http, synapse.base_url, bot.access_token, bot.user_id, bot.device_id, seeds, password
    )


def published_master(query: dict[str, Any], user_id: str) -> list[str]:
    return list(query["master_keys"][user_id]["keys"].values())


async def test_bot_cross_signs_its_device_once(
    synapse: SynapseHandle, http: aiohttp.ClientSession, bot: BotDevice
) -> None:
    before = await keys_query(http, synapse, bot)
    assert owner_trust(before, bot.user_id, bot.device_id) is OwnerTrust.NO_MASTER_KEY

    seeds = CrossSigningSeeds.generate()
    started = time.perf_counter()
    # First upload: no password needed (MSC3967).
    assert await ensure(http, synapse, bot, seeds, password=None) is True
    elapsed_ms = (time.perf_counter() - started) * 1000
    log.info("first cross-signing took %.0f ms", elapsed_ms)

    query = await keys_query(http, synapse, bot)
    assert published_master(query, bot.user_id) == [seeds.master_public]
    ssk = query["self_signing_keys"][bot.user_id]["keys"]
    assert list(ssk.values()) == [seeds.self_signing_public]
    assert owner_trust(query, bot.user_id, bot.device_id) is OwnerTrust.CROSS_SIGNED

    # A restart with the same seeds from the vault changes nothing.
    assert await ensure(http, synapse, bot, seeds, password=None) is False
    reloaded = CrossSigningSeeds.from_bytes(seeds.to_bytes())
    assert await ensure(http, synapse, bot, reloaded, password=None) is False
    assert elapsed_ms < 5000, f"cross-signing took {elapsed_ms:.0f} ms"


async def test_replacing_identity_needs_password(
    synapse: SynapseHandle, http: aiohttp.ClientSession, bot: BotDevice
) -> None:
    first = CrossSigningSeeds.generate()
    assert await ensure(http, synapse, bot, first, password=None) is True

    second = CrossSigningSeeds.generate()
    with pytest.raises(CrossSigningError, match="password"):
        await ensure(http, synapse, bot, second, password=None)
    query = await keys_query(http, synapse, bot)
    assert published_master(query, bot.user_id) == [first.master_public]

    with pytest.raises(CrossSigningError, match="password"):
        await ensure(http, synapse, bot, second, password="wrong password")

    assert await ensure(http, synapse, bot, second, password=bot.password) is True
    query = await keys_query(http, synapse, bot)
    assert published_master(query, bot.user_id) == [second.master_public]
    assert owner_trust(query, bot.user_id, bot.device_id) is OwnerTrust.CROSS_SIGNED
    assert await ensure(http, synapse, bot, second, password=None) is False


async def test_device_without_published_keys_is_refused(
    synapse: SynapseHandle, http: aiohttp.ClientSession, user_factory: UserFactory
) -> None:
    # The registration device never uploaded identity keys.
    user = await user_factory("keyless")
    bot = BotDevice(user.user_id, user.password, user.device_id, user.access_token)
    with pytest.raises(CrossSigningError, match="keys_upload"):
        await ensure(http, synapse, bot, CrossSigningSeeds.generate(), password=None)
    # Refused before anything was published.
    query = await keys_query(http, synapse, bot)
    assert not query.get("master_keys", {}).get(bot.user_id)


async def test_bad_token_is_a_clear_error(
    synapse: SynapseHandle, http: aiohttp.ClientSession, bot: BotDevice
) -> None:
    stale = BotDevice(bot.user_id, bot.password, bot.device_id, "not-a-token")
    with pytest.raises(CrossSigningError, match="access token") as caught:
        await ensure(http, synapse, stale, CrossSigningSeeds.generate(), password=None)
    assert "not-a-token" not in str(caught.value)
