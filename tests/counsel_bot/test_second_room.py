"""A youth with an open conversation who starts a second chat with the bot (a new phone
whose app shows the old chat empty, say): before, the second room opened a second
conversation, queued again, with a second counsellor who knew nothing of the first, while
the first counsellor went on writing into the first room. Now the words count in the
conversation the youth already has, crisis check included, and the youth is shown the way
back. Real Synapse, the real bot, nio clients."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from counsel_bot.config import OfficeSettings, RoutingSettings
from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import (
    Office,
    login,
    office,
    on_duty,
    provision_bot,
    trust,
    until,
)

pytestmark = pytest.mark.integration


async def in_counselling(o: Office) -> tuple[str, str]:
    """The counsellor on duty, the youth's first chat given to her: the staff room and
    that chat's room."""
    staff_room = await on_duty(o.counsellor, o.bot_user)
    first = await o.youth.open_chat(o.bot_user)
    await o.youth.send(first, "hallo, ich hab stress zuhause ERSTE")
    room = await o.counsellor.accept_invite(within=60)
    assert room == first
    return staff_room, first


async def waiting_with_a_second_chat(o: Office, words: str) -> tuple[str, str]:
    """Nobody on duty: the youth waits in a first chat and writes ``words`` in a second,
    which are counted in the first. Both rooms."""
    await o.counsellor.accept_invite(within=60)  # the staff room
    first = await o.youth.open_chat(o.bot_user)
    await o.youth.send(first, "hallo")
    await o.youth.wait_for(first, o.bot_user, "Warteschlange", within=60)
    second = await o.youth.open_chat(o.bot_user)
    await o.youth.send(second, words)
    await o.youth.wait_for(second, o.bot_user, "matrix.to", within=60)
    return first, second


async def test_words_in_a_second_chat_go_to_the_open_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        room = first
        await counsellor.wait_for(room, bot, "ERSTE", within=60)

        second = await youth.open_chat(bot)
        await youth.send(second, "bin ich noch dran? ZWEITE")
        # The way back, with a link the youth's app opens, and the numbers.
        await youth.wait_for(second, bot, f"https://matrix.to/#/{first}", within=60)
        await counsellor.wait_for(room, bot, "ZWEITE", within=60)  # passed on to her

        await youth.send(second, "ich will mich umbringen")
        await counsellor.wait_for(staff_room, bot, "KRISENHINWEIS", within=60)
        record = await o.bot.store.conversation_by_room(RoomID(first))
        assert record is not None
        current = o.bot.conductor.router.conversation(record.conversation)
        assert current is not None
        assert current.crisis.value != "none"
        assert await o.bot.store.conversation_by_room(RoomID(second)) is None
        assert o.bot.conductor.router.queue() == []
        assert second not in counsellor.invited_to()

        # Leaving the second chat ends it; the first goes on.
        await youth.client.room_leave(second)

        async def bot_left() -> bool:
            return bot not in await synapse.admin.room_members(second)
        await until(bot_left, within=60, what="the bot to leave the second chat")
        await youth.send(first, "okay ich bin wieder hier DRITTE")
        await counsellor.wait_for(room, youth.client.user_id, "DRITTE", within=60)


async def test_a_second_chat_the_bot_cannot_moderate_still_counts_in_the_open_one(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A second chat made as nio's plain private chat (the bot cannot remove anybody there)
    is moved to a room of the bot's own; the words written in it meanwhile counted in that
    new room, which opened a second conversation, queued again, as before second chats
    counted in the open one."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, first = await in_counselling(o)
        room = first
        await counsellor.wait_for(room, bot, "ERSTE", within=60)

        second = await youth.open_chat(bot, like_element=False)
        await youth.wait_for(second, bot, "eigenen, verschlüsselten Raum", within=60)
        await youth.send(second, "bin ich noch dran? ZWEITE")
        await counsellor.wait_for(room, bot, "ZWEITE", within=60)  # passed on to her
        assert o.bot.conductor.router.queue() == []
        assert len(o.bot.conductor.router.snapshot().conversations) == 1


async def test_ja_loeschen_purges_the_second_chat_too(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The youth's words in the second chat are theirs like any: erased with the
    conversation they counted in."""
    async with office(synapse, user_factory, tmp_path, admin=True) as o:
        youth, bot = o.youth, o.bot_user
        first, second = await waiting_with_a_second_chat(
            o, f"mein name ist KANARIENVOGEL-{secrets.token_hex(6)}")
        record = await o.bot.store.conversation_by_room(RoomID(first))
        assert record is not None

        await youth.delete_chat(first, bot)

        async def erased() -> bool:
            return await o.bot.store.conversation(record.conversation) is None
        await until(erased, within=90, what="the erasure")
        assert not await synapse.admin.room_exists(first)
        assert not await synapse.admin.room_exists(second)
        assert await o.bot.store.settings("second_chat") == []


async def test_after_the_open_conversation_ends_the_second_chat_is_the_youths_own(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Words counted in a closed conversation would reach nobody (the bot leaves a closed
    room soon after): once it has ended, the second chat opens its own conversation."""
    async with office(synapse, user_factory, tmp_path) as o:
        youth, bot = o.youth, o.bot_user
        first, second = await waiting_with_a_second_chat(o, "noch da?")
        await youth.send(first, "ende")
        await youth.wait_for(first, bot, "Das Gespräch ist jetzt beendet", within=60)

        await youth.send(second, "ich hab doch noch was ZWEITES")

        async def own() -> bool:
            return await o.bot.store.conversation_by_room(RoomID(second)) is not None
        await until(own, within=60, what="the second chat's own conversation")


async def test_words_in_a_second_chat_after_the_first_closed_open_a_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth who starts a second chat, then leaves the old, empty-looking one: the open
    conversation is closed. Their next words in the second chat went on counting in the
    closed one: pointed to a new chat in the room they had left, read by nobody."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, first = await in_counselling(o)
        second = await youth.open_chat(bot)
        await youth.send(second, "bin ich noch dran? ZWEITE")
        await youth.wait_for(second, bot, f"https://matrix.to/#/{first}", within=60)
        record = await o.bot.store.conversation_by_room(RoomID(first))
        assert record is not None

        await youth.client.room_leave(first)

        async def closed() -> bool:
            return o.bot.conductor.router.conversation(record.conversation) is None
        await until(closed, within=60, what="the first conversation to close")
        await youth.send(second, "hallo? ich brauche wirklich jemanden DRITTE")

        async def opened() -> bool:
            return await o.bot.store.conversation_by_room(RoomID(second)) is not None
        await until(opened, within=60, what="a conversation in the second chat")
        assert await counsellor.accept_invite(within=60) == second
        await counsellor.wait_for(second, bot, "DRITTE", within=60)


async def test_the_way_back_from_a_second_chat_gives_the_youths_office_numbers(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Nobody has read the words of a second chat yet, so the way back carries the numbers
    to call: those of the youth's office (another region's lines, maybe), as the welcome
    and the crisis safety text give them, not the installation's."""
    anna = await login(synapse, user_factory, tmp_path, "anna")
    cem = await login(synapse, user_factory, tmp_path, "cem")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    process.settings = replace(
        process.settings,
        routing=RoutingSettings(fallback_office="jugend", on_call_office="jugend"),
        offices=(
            OfficeSettings(id="familie", name="Familienberatung Ulm", topics=("family",),
                           postcodes=("89",), counsellors=(anna.client.user_id,),
                           emergency_de="FAMILIENNOTRUF 0800 555 89",
                           emergency_en="FAMILY HELPLINE 0800 555 89"),
            OfficeSettings(id="jugend", name="Jugendberatung", topics=("general",),
                           counsellors=(cem.client.user_id,)),
        ),
    )
    await process.start()
    bot = process.user_id
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        first = await youth.open_chat(bot)
        await youth.wait_for(first, bot, "anonym", within=60)
        await youth.send(first, "Stress mit meinen Eltern, 89073")
        await youth.wait_for(first, bot, "Familienberatung Ulm", within=60)
        second = await youth.open_chat(bot)
        await youth.send(second, "bin ich noch dran?")
        way_back = await youth.wait_for(second, bot, f"https://matrix.to/#/{first}",
                                        within=60)
        assert "FAMILIENNOTRUF 0800 555 89" in way_back
    finally:
        for client in (anna, cem, youth):
            await client.close()
        await process.stop()


async def test_a_friend_leaving_the_second_chat_does_not_end_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The attack on the second chat (2026-12-06): anyone not on staff who left it ended
    the link and sent the bot away, also a friend the youth had let in (or one the bot took
    out), so the youth's next words there reached nobody. The embedded homeserver refuses
    a youth's invitation of anyone but the bot and the staff (tests/security/
    test_youth_contact.py); beside a homeserver without that rule the friend gets in, and
    the homeserver here lets the youth's invitation through as such a one would."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, room = await in_counselling(o)
        second = await youth.open_chat(bot)
        await youth.send(second, "bin ich noch dran? ZWEITE")
        await counsellor.wait_for(room, bot, "ZWEITE", within=60)

        friend = await login(synapse, user_factory, tmp_path, "friend")
        trust(synapse, youth.client.user_id)  # the homeserver's rule only, not the bot's
        await youth.client.room_invite(second, friend.client.user_id)
        await friend.accept_invite(within=60)
        await friend.client.room_leave(second)

        async def friend_gone() -> bool:
            return friend.client.user_id not in await synapse.admin.room_members(second)
        await until(friend_gone, within=60, what="the friend to leave")
        await youth.send(second, "jetzt wieder allein DRITTE")
        await counsellor.wait_for(room, bot, "DRITTE", within=60)
        assert bot in await synapse.admin.room_members(second)
