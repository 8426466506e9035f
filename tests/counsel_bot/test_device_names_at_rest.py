"""A youth's app may name their device after them ("Kims iPhone": iOS apps take the phone's
name). The bot never shows a device's name, but nio's store kept every one it learned from
the homeserver, in plain text beside the youth's account id, in the bot's data directory,
whose other traces of a youth are sealed. The bot's store of its device keeps no names."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomMessage

from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_canary_full import files_containing
from tests.support.bot_harness import NioYouth, office

pytestmark = pytest.mark.integration


async def youth_with_device_name(synapse: SynapseHandle, user_factory: UserFactory,
                                 store: Path, device_name: str) -> NioYouth:
    user = await user_factory("youth")
    store.mkdir(parents=True, exist_ok=True)
    client = AsyncClient(synapse.base_url, user.user_id, store_path=str(store),
                         config=AsyncClientConfig(store_sync_tokens=True,
                                                  encryption_enabled=True,
                                                  pickle_key="test-youth"))
    answer = await client.login(user.password, device_name=device_name)
    assert isinstance(answer, LoginResponse), answer
    youth = NioYouth(client)
    client.add_event_callback(youth._on_message, RoomMessage)
    await client.keys_upload()
    youth.start()
    return youth


async def test_the_bot_keeps_no_youths_device_name_at_rest(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    device_name = f"Kims iPhone {secrets.token_hex(5)}"
    async with office(synapse, user_factory, tmp_path) as o:
        youth = await youth_with_device_name(synapse, user_factory, tmp_path / "kim",
                                             device_name)
        try:
            room = await youth.open_chat(o.bot_user)
            await youth.wait_for(room, o.bot_user, "anonym")
            await youth.send(room, "hallo")
            await youth.wait_for(room, o.bot_user, "Platz 1")  # the bot read it: keys known
        finally:
            await youth.close()
        await o.process.stop()
    assert files_containing(o.process.layout.root, [device_name.encode()]) == [], \
        "a youth's device name in the bot's files"
