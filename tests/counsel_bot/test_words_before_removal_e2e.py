"""Words a youth wrote just before removing the bot from their room.

A youth's own room is theirs to clear while no counsellor is in it: they may remove the
bot. A sync that carries the youth's last message and the bot's removal puts the room in
its ``leave`` section, whose timeline matrix-nio neither decrypts nor hands to callbacks:
the bot ended the conversation as if the youth had left, and the last words, crisis words
included, were never read. The bot stopped for a moment (an update) makes the two
arrive together for sure, as a bot busy for a few seconds does by chance.
"""

from __future__ import annotations

from pathlib import Path

from nio import RoomCreateResponse, RoomKickResponse, RoomPreset

from counsel_bot.channels.matrix.sync_requests import SYNC_TIMELINE_LIMIT
from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import Office, office, until


async def _youths_own_room(o: Office) -> str:
    """A private room of version 12, whose creator outranks everyone, that gives the bot
    the power to remove members, as counsel asks (Element's direct chat makes the bot a
    creator too, which nobody can remove)."""
    answer = await o.youth.client.room_create(
        is_direct=True, invite=[o.bot_user], preset=RoomPreset.private_chat,
        room_version="12", power_level_override={"users": {o.bot_user: 100}},
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    assert isinstance(answer, RoomCreateResponse), answer
    return str(answer.room_id)


async def test_crisis_words_written_just_before_the_bot_was_removed_reach_the_staff(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        staff_room = await o.counsellor.accept_invite(within=60)  # not on duty
        room = await _youths_own_room(o)
        await o.youth.send(room, "hallo, ich brauche jemanden zum reden")
        await until(lambda: o.bot.store.conversation_by_room(RoomID(room)),
                    within=60, what="the conversation")
        await o.process.stop()
        await o.youth.send(room, "ich will mich heute nacht umbringen")
        answer = await o.youth.client.room_kick(room, o.bot_user, "tschüss")
        assert isinstance(answer, RoomKickResponse), answer
        bot = await o.process.start()
        alert = await o.counsellor.wait_for(staff_room, o.bot_user, "KRISENHINWEIS", within=60)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        assert record.conversation in alert


async def test_more_words_than_one_sync_carries_before_the_removal_stall_nothing(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> None:
    """More messages than a sync carries per room (`SYNC_TIMELINE_LIMIT`) came before the
    removal: the homeserver forgets a room for whoever leaves it (forget_rooms_on_leave), so
    the history before the sync's window cannot be fetched. The sync must go on with what it
    carried (the last words among them), not be tried again and again, every other room's
    words held back with it."""
    async with office(synapse, user_factory, tmp_path) as o:
        await synapse.admin.override_ratelimit(o.youth.client.user_id)
        staff_room = await o.counsellor.accept_invite(within=60)
        room = await _youths_own_room(o)
        await o.youth.send(room, "hallo, ich brauche jemanden zum reden")
        await until(lambda: o.bot.store.conversation_by_room(RoomID(room)),
                    within=60, what="the conversation")
        await o.process.stop()
        for part in range(SYNC_TIMELINE_LIMIT + 5):
            await o.youth.send(room, f"und dann noch etwas, teil {part}")
        await o.youth.send(room, "ich will mich heute nacht umbringen")
        answer = await o.youth.client.room_kick(room, o.bot_user, "tschüss")
        assert isinstance(answer, RoomKickResponse), answer
        await o.process.start()
        await o.counsellor.wait_for(staff_room, o.bot_user, "KRISENHINWEIS", within=60)
