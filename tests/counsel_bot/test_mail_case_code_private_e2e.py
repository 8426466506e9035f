"""A mail youth's case code (`!chat`) in someone else's hands, on real Synapse: the mother
who reads Kim's mailbox redeems it and sits in the conversation's room. Every mail Kim
wrote after that was posted into that room: the mother read "that was not me, my mother
reads my mails" and whatever else Kim told the counsellor. Once a code was used, Kim's
mails reach the counsellor alone, in the bot's direct room with them (as a call's link
does), and the room says only that a mail came."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiosmtplib
import pytest
from nio import JoinResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_mail_e2e import mail_office, youth_mail
from tests.support.bot_harness import login, until

pytestmark = pytest.mark.integration


async def test_the_youths_mails_are_not_read_by_whoever_came_in_with_the_case_code(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with mail_office(synapse, user_factory, tmp_path, admin=True) as office:
        provider, counsellor, process, bot = (
            office.provider, office.counsellor, office.process, office.bot)
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        await aiosmtplib.send(youth_mail("Kann ich auch chatten?", "<p1@youth.example>"),
                              hostname="127.0.0.1", port=bot.mail.inbound.port, start_tls=False)
        await until(lambda: len(counsellor.invited_to()) == 1, what="the mail room invite")
        room = await counsellor.accept_invite()
        await counsellor.wait_for(room, process.user_id, "Kann ich auch chatten?")
        await asyncio.wait_for(provider.inbox.get(), 30)  # the acknowledgement

        await counsellor.send(room, "!chat")
        invitation = (await asyncio.wait_for(provider.inbox.get(), 30)).get_content()
        code = re.search(r"Fall-Code: ([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})", invitation)
        assert code is not None
        mother = await login(synapse, user_factory, tmp_path, "mum")
        office.closing.append(mother)
        lobby = await mother.open_chat(process.user_id)
        await mother.wait_for(lobby, process.user_id, "anonym")
        await mother.send(lobby, code.group(1))
        assert await mother.accept_invite() == room
        notice = await asyncio.wait_for(provider.inbox.get(), 30)
        assert "benutzt" in notice.get_content()
        await mother.send(room, "hallo")
        await mother.wait_for(room, process.user_id, "wieder im Chat", within=60)

        # Kim answers the notice: it was not them.
        await aiosmtplib.send(
            youth_mail("Das war nicht ich. Meine Mutter liest meine Mails.",
                       "<p2@youth.example>", In_Reply_To=str(notice["Message-ID"]),
                       References=str(notice["Message-ID"])),
            hostname="127.0.0.1", port=bot.mail.inbound.port, start_tls=False)
        await until(lambda: bool(counsellor.invited_to() - {room, staff_room}), within=60,
                    what="an invitation to a direct room with the bot")
        [direct] = counsellor.invited_to() - {room, staff_room}
        answer = await counsellor.client.join(direct)
        assert isinstance(answer, JoinResponse), answer
        await counsellor.wait_for(direct, process.user_id, "Meine Mutter liest", within=60)
        # The room is told that a mail came, after the mail went to the counsellor.
        await mother.wait_for(room, process.user_id, "Mail", within=60)
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
