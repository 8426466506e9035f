"""A reaction in a youth's own chat with the bot: an emoji is no message (a 👍 on the
welcome opens nothing), but any app that lets one type a reaction lets a youth say
"ich will nicht mehr leben" as one, and the bot dropped every reaction as carrying nothing.
A reaction of words is read like a message: crisis check, and kept as a note for a
counsellor who joins later. Real Synapse, a real E2E client (nio sends a reaction as
Element does: encrypted, its relation in the clear)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nio import ProfileSetDisplayNameResponse, RoomSendResponse

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_crisis_e2e import CRISIS
from tests.support.bot_harness import NioYouth, login, office, provision_bot, until

pytestmark = pytest.mark.integration


@dataclass
class Chat:
    bot: CounselBot
    bot_id: str
    lead: NioYouth
    staff_room: str
    youth: NioYouth
    room: str


@asynccontextmanager
async def youth_chat(synapse: SynapseHandle, user_factory: UserFactory,
                     tmp_path: Path) -> AsyncIterator[Chat]:
    """A bot whose one team lead reads the staff room, and a youth in their chat with it."""
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[],
                                  team_leads=[lead.client.user_id])
    bot = await process.start()
    clients = [lead]
    try:
        staff_room = await lead.accept_invite()
        youth = await login(synapse, user_factory, tmp_path, "youth")
        clients.append(youth)
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.wait_for_join(room)
        yield Chat(bot, process.user_id, lead, staff_room, youth, room)
    finally:
        await process.stop()
        for client in clients:
            await client.close()


async def kept_in(chat: Chat) -> list[str]:
    """The notes kept for a counsellor who joins later."""
    record = await chat.bot.store.conversation_by_room(RoomID(chat.room))
    assert record is not None
    return [i.body.decode() for i in await chat.bot.store.read_intake(record.conversation)]


async def test_a_reaction_with_crisis_words_in_a_youths_chat_reaches_a_human(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with youth_chat(synapse, user_factory, tmp_path) as chat:
        youth, room = chat.youth, chat.room
        hello = await _send(youth, room, "m.room.message", {"msgtype": "m.text", "body": "hallo"})

        async def opened() -> bool:
            return await chat.bot.store.conversation_by_room(RoomID(room)) is not None

        await until(opened, what="the conversation")
        await _send(youth, room, "m.reaction", _reaction(hello, "👍"))
        await _send(youth, room, "m.reaction", _reaction(hello, CRISIS))

        alert = await chat.lead.wait_for(chat.staff_room, chat.bot_id, "KRISENHINWEIS",
                                         within=60)
        assert CRISIS not in alert
        await youth.wait_for(room, chat.bot_id, "116 111")
        # Kept for a counsellor who joins later, as a reaction; the emoji is no note.
        assert await kept_in(chat) == ["hallo", f"[Reaktion: {CRISIS}]"]


async def _send(youth: NioYouth, room_id: str, kind: str, content: dict[str, Any]) -> str:
    sent = await youth.client.room_send(room_id, kind, content, ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse), sent
    return str(sent.event_id)


def _reaction(to: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": to, "key": key}}


async def test_a_name_of_crisis_words_in_a_youths_chat_reaches_a_human(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth who takes crisis words for their name (in their profile: Synapse writes it
    into every room of theirs) says them to the counsellor who reads the chat; with nobody
    there yet, they reached no one. A name that raises no flag stays no message."""
    async with youth_chat(synapse, user_factory, tmp_path) as chat:
        youth, room = chat.youth, chat.room
        harmless = await youth.client.set_displayname("Sonnenblume")
        assert isinstance(harmless, ProfileSetDisplayNameResponse), harmless
        renamed = await youth.client.set_displayname(CRISIS)
        assert isinstance(renamed, ProfileSetDisplayNameResponse), renamed

        alert = await chat.lead.wait_for(chat.staff_room, chat.bot_id, "KRISENHINWEIS",
                                         within=60)
        assert CRISIS not in alert
        await youth.wait_for(room, chat.bot_id, "116 111")
        assert await kept_in(chat) == [f"[Name: {CRISIS}]"]


async def test_a_name_of_crisis_words_counts_once_for_a_youth_with_a_second_chat(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Synapse writes a new name into every room of the youth's. One waiting in their first
    chat with a second chat open (a new phone) had it counted twice in the one conversation
    (a second note for the counsellor, one more for every room of theirs)."""
    words = "ich will mich heute umbringen"
    async with office(synapse, user_factory, tmp_path) as o:
        youth, bot = o.youth, o.bot_user
        staff_room = await o.counsellor.accept_invite(within=60)
        first = await youth.open_chat(bot)
        await youth.send(first, "hallo")
        await youth.wait_for(first, bot, "Warteschlange", within=60)
        second = await youth.open_chat(bot)
        await youth.send(second, "bin ich noch dran")
        await youth.wait_for(second, bot, "matrix.to", within=60)

        renamed = await youth.client.set_displayname(words)
        assert isinstance(renamed, ProfileSetDisplayNameResponse), renamed
        await o.counsellor.wait_for(staff_room, bot, "KRISENHINWEIS", within=60)
        # Each room's later words come after its name: all of both are taken by then.
        await youth.send(first, "ENDE-EINS")
        await youth.send(second, "ENDE-ZWEI")
        record = await o.bot.store.conversation_by_room(RoomID(first))
        assert record is not None

        async def taken() -> list[str]:
            return [i.body.decode() for i in await o.bot.store.read_intake(record.conversation)]

        async def both_taken() -> bool:
            kept = await taken()
            return any("ENDE-EINS" in k for k in kept) and any("ENDE-ZWEI" in k for k in kept)

        await until(both_taken, within=60, what="the words after the name, in both rooms")
        assert [k for k in await taken() if k.startswith("[Name:")] == [f"[Name: {words}]"]
