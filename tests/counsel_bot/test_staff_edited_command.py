"""A counsellor who corrects a mistyped command by editing it (Element's up arrow): the
edit is no command (an edit of a command already carried out would carry it out twice),
and the counsellor is told so. Before, the edit was read as a chat reply and nothing was
said: "!duty of" corrected into "!duty off" left the counsellor on duty, believing they had
signed off, and youths were given to nobody there. Real Synapse, real E2E clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from nio import RoomSendResponse

from counsel_bot.core.ids import UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_command_corrected_by_an_edit_is_told_to_be_sent_again(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    try:
        staff_room = await counsellor.accept_invite(within=60)
        await goes_on_duty(counsellor, staff_room, process.user_id)
        typo = await send_line(counsellor, staff_room, "!duty of")
        await send_edit(counsellor, staff_room, typo.event_id, "!duty off")
        told = await counsellor.wait_for(staff_room, process.user_id, "„!duty“",
                                         within=30)
        assert "neue Nachricht" in told
        current = bot.conductor.router.counsellor(UserID(counsellor.client.user_id))
        assert current is not None
        assert current.on_duty
    finally:
        await process.stop()
        await counsellor.close()


@asynccontextmanager
async def in_a_youths_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> AsyncIterator[tuple[NioYouth, str, str, str]]:
    """A counsellor on duty and in a youth's room: the counsellor, the bot's id, the staff
    room and the youth's room."""
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    await process.start()
    try:
        staff_room = await counsellor.accept_invite(within=60)
        await goes_on_duty(counsellor, staff_room, process.user_id)
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "hallo")
        assert await counsellor.accept_invite() == room
        yield counsellor, process.user_id, staff_room, room
    finally:
        await process.stop()
        await counsellor.close()
        await youth.close()


async def send_line(counsellor: NioYouth, room: str, body: str) -> RoomSendResponse:
    sent = await counsellor.client.room_send(
        room, "m.room.message", {"msgtype": "m.text", "body": body},
        ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse)
    return sent


async def send_edit(counsellor: NioYouth, room: str, original: str,
                    body: str) -> RoomSendResponse:
    """``original`` corrected into ``body``, as Element's up arrow sends it."""
    sent = await counsellor.client.room_send(room, "m.room.message", {
        "msgtype": "m.text", "body": f"* {body}",
        "m.new_content": {"msgtype": "m.text", "body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }, ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse)
    return sent


async def redacted(counsellor: NioYouth, room: str, event_id: str) -> bool:
    answer = await counsellor.client.room_get_event(room, event_id)
    source = getattr(getattr(answer, "event", None), "source", {}) or {}
    return "redacted_because" in source.get("unsigned", {}) or \
        not source.get("content", {}).get("ciphertext", "x")


async def test_a_line_corrected_into_a_note_in_the_youths_room_leaves_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The note and the line it corrected are redacted from the youth's room (both are
    about the youth), as a note typed there is; the counsellor is told to send it anew."""
    async with in_a_youths_room(synapse, user_factory, tmp_path) as (counsellor, bot,
                                                                     staff_room, room):
        typo = await send_line(counsellor, room, "!not Vater schlägt")
        edit = await send_edit(counsellor, room, typo.event_id, "!note Vater schlägt")
        await counsellor.wait_for(staff_room, bot, "„!note“", within=30)
        await until(lambda: redacted(counsellor, room, typo.event_id),
                    what="the corrected line redacted")
        await until(lambda: redacted(counsellor, room, edit.event_id), what="the note redacted")


async def test_a_line_corrected_into_a_note_spaced_from_its_mark_leaves_the_youths_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """"! note …" (a phone's space after the mark) is a note to the working-day parser, so
    the edit is no reply; but only its first word, "!", was weighed for redaction: the
    corrected note stayed in the youth's room, shown in place of the line, about them."""
    async with in_a_youths_room(synapse, user_factory, tmp_path) as (counsellor, bot,
                                                                     staff_room, room):
        line = await send_line(counsellor, room, "Vater schlägt")
        edit = await send_edit(counsellor, room, line.event_id, "! note Vater schlägt")
        await counsellor.wait_for(staff_room, bot, "neue Nachricht", within=30)
        await until(lambda: redacted(counsellor, room, edit.event_id), what="the note redacted")
        await until(lambda: redacted(counsellor, room, line.event_id),
                    what="the corrected line redacted")
