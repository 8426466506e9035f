"""A mail youth's case code (`!chat`) in someone else's hands, on real Synapse: the mother
who reads Kim's mailbox redeems it and sits in the conversation's room. Every mail Kim
wrote after that was posted into that room: the mother read "that was not me, my mother
reads my mails" and whatever else Kim told the counsellor. Once a code was used, Kim's
mails reach the counsellor alone, in the bot's direct room with them (as a call's link
does), and nothing of them is said in the room."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import aiosmtplib
import pytest
from nio import JoinResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, login, until
from tests.support.mail_e2e import MailOffice, case_code_mailed, mail_office, mail_taken, youth_mail
from tests.support.video import invitation_to_direct

pytestmark = pytest.mark.integration


@dataclass
class HolderInRoom:
    """The mail conversation's room, the staff room, and the mother in the room with Kim's
    case code; the mail telling Kim of the code's use."""

    room: str
    staff_room: str
    mother: NioYouth
    notice: Message


async def holder_in_room(office: MailOffice, synapse: SynapseHandle,
                         user_factory: UserFactory, tmp_path: Path) -> HolderInRoom:
    """Kim mails, the counsellor takes it and sends `!chat`; the mother, who reads Kim's
    mailbox, redeems the code and writes in the room (the case is in the chat)."""
    provider, process = office.provider, office.process
    staff_room, room, _ = await mail_taken(office, "Kann ich auch chatten?",
                                           "<p1@youth.example>")
    _invitation, code = await case_code_mailed(office, room)
    mother = await login(synapse, user_factory, tmp_path, "mum")
    office.closing.append(mother)
    lobby = await mother.open_chat(process.user_id)
    await mother.wait_for(lobby, process.user_id, "anonym")
    await mother.send(lobby, code)
    assert await mother.accept_invite() == room
    notice = await asyncio.wait_for(provider.inbox.get(), 30)
    assert "benutzt" in notice.get_content()
    await mother.send(room, "hallo")
    await mother.wait_for(room, process.user_id, "wieder im Chat", within=60)
    return HolderInRoom(room, staff_room, mother, notice)


async def kim_answers(office: MailOffice, notice: Message, text: str, n: int) -> None:
    assert office.bot.mail is not None
    assert office.bot.mail.inbound is not None
    await aiosmtplib.send(
        youth_mail(text, f"<p{n}@youth.example>", In_Reply_To=str(notice["Message-ID"]),
                   References=str(notice["Message-ID"])),
        hostname="127.0.0.1", port=office.bot.mail.inbound.port, start_tls=False)


async def direct_room(counsellor: NioYouth, known: set[str]) -> str:
    """The counsellor accepts the bot's invitation to a direct room with it."""
    direct = await invitation_to_direct(counsellor, known)
    answer = await counsellor.client.join(direct)
    assert isinstance(answer, JoinResponse), answer
    return direct


async def test_the_youths_mails_are_not_read_by_whoever_came_in_with_the_case_code(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with mail_office(synapse, user_factory, tmp_path, admin=True) as office:
        counsellor, process, bot = office.counsellor, office.process, office.bot
        there = await holder_in_room(office, synapse, user_factory, tmp_path)
        room, staff_room, mother, notice = (
            there.room, there.staff_room, there.mother, there.notice)

        # Kim answers the notice: it was not them.
        await kim_answers(office, notice, "Das war nicht ich. Meine Mutter liest meine Mails.", 2)
        direct = await direct_room(counsellor, {room, staff_room})
        await counsellor.wait_for(direct, process.user_id, "Meine Mutter liest", within=60)
        await counsellor.wait_for(staff_room, process.user_id, "Im Mail-Verlauf kam eine Mail",
                                  within=60)
        assert not [body for r, _, body in mother.received if "Mutter" in body], \
            "whoever came in with the case code read the youth's mail"
        assert not [body for r, _, body in counsellor.received
                    if r == room and "Mutter" in body], "the mail was posted into the room"

        # The counsellor removes whoever came in with the code (`!chat end`): told first,
        # then out of the room; the case goes on by mail.
        await counsellor.send(room, "!chat end")
        await mother.wait_for(room, process.user_id, "beendet", within=60)

        def mother_gone() -> bool:
            members = counsellor.client.rooms[room].users
            return mother.client.user_id not in members

        await until(mother_gone, within=60, what="the code's holder to leave the room")
        assert counsellor.client.user_id in counsellor.client.rooms[room].users
        await until(lambda: bot.conductor.router.snapshot().conversations[0].channel.value
                    == "mail", what="the case to go on by mail")


async def test_the_transcript_of_the_youths_mails_is_not_read_by_the_codes_holder(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The case changes hands (`!transfer queue`, `!next`): the transcript of everything
    written so far, Kim's mails among it, was posted into the room for the counsellor who
    joined, and the mother in the room read every mail Kim ever wrote."""
    async with mail_office(synapse, user_factory, tmp_path, admin=True) as office:
        counsellor, process = office.counsellor, office.process
        there = await holder_in_room(office, synapse, user_factory, tmp_path)
        room, staff_room, mother = there.room, there.staff_room, there.mother
        await kim_answers(office, there.notice, "Meine Mutter liest meine Mails.", 3)
        direct = await direct_room(counsellor, {room, staff_room})
        await counsellor.wait_for(direct, process.user_id, "Meine Mutter liest", within=60)

        await counsellor.send(room, "!transfer queue")
        await mother.wait_for(room, process.user_id, "Warteschlange", within=60)
        await counsellor.send(staff_room, "!next")

        async def transcript_sent() -> bool:
            if room in counsellor.invited_to():
                await counsellor.client.join(room)
            return any(r == direct and "bisher geschrieben" in body
                       for r, _, body in counsellor.received) \
                or any(r == room and "bisherigen Nachrichten" in body
                       for r, _, body in mother.received)

        await until(transcript_sent, within=60, what="the transcript for the counsellor")
        assert not [body for _, _, body in mother.received if "Mutter" in body], \
            "whoever came in with the case code read the youth's mails in the transcript"
        await counsellor.wait_for(direct, process.user_id, "Meine Mutter liest meine Mails",
                                  within=60)
