"""A room whose power levels let the bot remove members but not write (anyone can make one
and invite the bot): what the bot says there is refused for good. Those sends were made
outside the outbox, and a refusal stopped the whole bot; the refusal comes again at every
start, so one such room kept the service down for every youth and every crisis alert.
Real Synapse, the real bot, nio clients."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from nio import RoomCreateResponse, RoomPreset

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from counsel_bot.store import StoreError
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, office, until

pytestmark = pytest.mark.integration

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


async def open_muting_room(youth: NioYouth, bot: str) -> str:
    """An encrypted room in which the bot may kick (50) but not send (100)."""
    answer = await youth.client.room_create(
        is_direct=True, invite=[bot], preset=RoomPreset.private_chat,
        initial_state=[ENCRYPTION],
        # The creator holds unlimited power (room version 12) and is not listed.
        power_level_override={"users": {bot: 50}, "events_default": 100},
    )
    assert isinstance(answer, RoomCreateResponse), answer
    return str(answer.room_id)


async def test_a_room_where_the_bot_may_not_write_moves_the_youth_and_stops_nothing(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        youth, running = o.youth, o.process._task
        assert running is not None
        first = await open_muting_room(youth, o.bot_user)

        def moved_or_stopped() -> bool:
            return running.done() or any(r != first for r in youth.invited_to())

        await until(moved_or_stopped, within=60, what="a new room or the bot's end")
        assert not running.done(), f"the bot stopped: {running.exception()!r}"
        # The bot's own room, where it can counsel: the youth is invited there.
        assert any(r != first for r in youth.invited_to())


async def test_a_message_never_readable_there_stops_nothing_when_its_wait_ends(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The youth is asked to write again once the grace for a message without its key is
    over; in such a room that is refused, and the refusal stopped the bot. The restart
    fetched the message again (the sync position is held back for it): the same stop
    every grace period, for as long as the room exists."""
    async with office(synapse, user_factory, tmp_path) as o:
        youth, running = o.youth, o.process._task
        assert running is not None
        first = await open_muting_room(youth, o.bot_user)
        await until(lambda: running.done() or any(r != first for r in youth.invited_to()),
                    within=60, what="a new room or the bot's end")
        assert not running.done(), f"the bot stopped: {running.exception()!r}"

        # Encrypted with a session the bot never gets a key for.
        url = (f"{synapse.base_url}/_matrix/client/v3/rooms/{first}/send/"
               f"m.room.encrypted/{secrets.token_hex(8)}")
        content = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "A" * 43,
                   "ciphertext": "AwgAEnACgAkLmt6qF84IK", "session_id": "B" * 43,
                   "device_id": "NOKEY"}
        headers = {"Authorization": f"Bearer {youth.client.access_token}"}
        async with synapse.http.put(url, json=content, headers=headers) as answer:
            assert answer.status == 200, await answer.text()
        bot = o.bot
        await until(lambda: running.done() or len(bot.undecryptable) > 0, within=60,
                    what="the message to wait for its key")
        held = await bot.store.get_setting(SYNC_TOKEN_KEY)

        async def given_up_and_synced_on() -> bool:
            if running.done() or len(bot.undecryptable) > 0:
                return running.done()
            try:
                return await bot.store.get_setting(SYNC_TOKEN_KEY) != held
            except StoreError:
                return False  # closed by the bot's end, seen at the next look

        await until(given_up_and_synced_on, within=60, what="the grace to end")
        assert not running.done(), f"the bot stopped: {running.exception()!r}"
