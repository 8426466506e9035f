"""A youth's first words while the bot's one-time keys are used up, on real Synapse.

An app opens an Olm session with the bot's device by claiming one of its one-time keys, and
only through that session can it give the bot the room key of what the youth writes. Any
account may claim them (one request each), and the bot replaces them only between two of its
syncs. Element makes a chat with its first message, before the bot has joined or said a
word: with no key left to claim, the app sent that message's room key to everyone but the
bot, whose device then never could read it. nio uploads no fallback key (the key a server
hands out when the one-time keys are gone), which the Matrix spec has for just this.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.messages import text
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, office, until

pytestmark = pytest.mark.integration

# Written for this test (the crisis rules flag it: suicide, high).
CRISIS = "ich halte das alles nicht mehr aus und will mich heute umbringen"


class HeldSync:
    """The bot's loop, held before its next sync (and the key upload after it) until
    released: its loop busy with the batch before, as under load."""

    def __init__(self, bot: CounselBot) -> None:
        self.waiting = asyncio.Event()
        self.released = asyncio.Event()
        self._sync = bot._sync_or_stop
        bot._sync_or_stop = self._held  # type: ignore[method-assign]

    async def _held(self, stop: asyncio.Event, since: str | None, first: bool) -> Any:
        self.waiting.set()
        await self.released.wait()
        return await self._sync(stop, since, first)


async def claim_all(synapse: SynapseHandle, claimer: NioYouth, user: str, device: str) -> int:
    """Every one-time key of ``device`` claimed, as any account may: how many there were."""
    url = f"{synapse.base_url}/_matrix/client/v3/keys/claim"
    headers = {"Authorization": f"Bearer {claimer.client.access_token}"}
    for claimed in range(500):
        async with synapse.http.post(url, headers=headers, json={
                "one_time_keys": {user: {device: "signed_curve25519"}}}) as answer:
            assert answer.status == 200
            keys = (await answer.json()).get("one_time_keys", {}).get(user, {}).get(device, {})
        if not keys or any(key.get("fallback") for key in keys.values()):
            return claimed
    raise AssertionError("the device's one-time keys never ran out")


async def test_a_youths_first_words_while_the_bots_one_time_keys_are_used_up_are_read(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        held = HeldSync(o.bot)
        await asyncio.wait_for(held.waiting.wait(), 30)
        assert o.bot.client.device_id is not None
        assert await claim_all(synapse, o.counsellor, o.bot_user, o.bot.client.device_id) > 0

        # As Element does: the chat is made with its first message, the bot only invited.
        room = await o.youth.open_chat(o.bot_user)
        await until(lambda: room in o.youth.client.rooms, what="the youth's new room")

        async def bot_device_known() -> bool:
            # Element waits for the members' device lists before it sends; nio does not.
            if o.youth.client.should_query_keys:
                await o.youth.client.keys_query()
            olm = o.youth.client.olm
            return olm is not None and any(True for _ in
                                           olm.device_store.active_user_devices(o.bot_user))

        await until(bot_device_known, what="the youth's app to know the bot's device")
        await o.youth.client.room_send(room, "m.room.message",
                                       {"msgtype": "m.text", "body": CRISIS},
                                       ignore_unverified_devices=True)
        held.released.set()

        # The words were read: the safety information a rule's reading of them brings
        # (never the request to write them again).
        await until(lambda: any(r == room and s == o.bot_user
                                and b.startswith("Danke, dass du das erzählst")
                                for r, s, b in o.youth.received),
                    within=60, what="the safety information for the youth's words")
        assert not [body for r, s, body in o.youth.received
                    if r == room and s == o.bot_user and body == text("undecryptable", "de")]
