"""Issue 6 (mail): a real SMTP round trip through the real bot on real Synapse."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

import aiosmtplib
import pytest

from counsel_bot.conversation.change import Change
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, until
from tests.support.mail_e2e import (
    OFFICE,
    YOUTH,
    address_proven,
    case_code_mailed,
    mail_office,
    mail_taken,
    youth_mail,
)
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration

async def test_mail_in_queue_reply_out_and_the_thread_continues_in_the_same_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with mail_office(synapse, user_factory, tmp_path) as office:
        provider, counsellor, process, bot = (
            office.provider, office.counsellor, office.process, office.bot)
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        office_port = bot.mail.inbound.port
        staff_room = await counsellor.accept_invite()

        # Mail in: a new conversation (channel mail) in the queue, announced without content.
        await aiosmtplib.send(youth_mail("Meine Eltern streiten nur noch.", "<k1@youth.example>"),
                              hostname="127.0.0.1", port=office_port, start_tls=False)
        notice = await counsellor.wait_for(staff_room, process.user_id, "Mail-Anfrage")
        assert "streiten" not in notice
        assert YOUTH not in notice
        [queued] = bot.conductor.router.queue()
        assert bot.conductor.router.conversation(queued).channel.value == "mail"  # type: ignore[union-attr]
        # The youth hears at once that the mail arrived, in its thread, marked automatic.
        ack = await asyncio.wait_for(provider.inbox.get(), 30)
        assert ack["To"] == YOUTH
        assert ack["In-Reply-To"] == "<k1@youth.example>"
        assert ack["Auto-Submitted"] == "auto-generated"
        assert "angekommen" in ack.get_content()

        # The counsellor takes it and reads the mail in the room.
        await counsellor.send(staff_room, "!duty on")
        await until(lambda: len(counsellor.invited_to()) == 1, what="the mail room invite")
        room = await counsellor.accept_invite()
        await counsellor.wait_for(room, process.user_id, "Meine Eltern streiten nur noch.")

        # The reply in the room goes out as mail, threaded, from the office.
        await counsellor.send(room, "Das klingt sehr belastend. Magst du mehr erzählen?")
        reply = await asyncio.wait_for(provider.inbox.get(), 30)
        assert reply["To"] == YOUTH
        assert OFFICE in reply["From"]
        assert reply["In-Reply-To"] == ack["Message-ID"]  # the thread goes on
        assert "<k1@youth.example>" in reply["References"]
        assert reply["Subject"].startswith("Re:")
        assert "Magst du mehr erzählen?" in reply.get_content()

        # The youth answers the reply: the second mail lands in the same room.
        await aiosmtplib.send(
            youth_mail("Es ist jeden Abend so.", "<k2@youth.example>",
                       In_Reply_To=reply["Message-ID"], References=reply["Message-ID"]),
            hostname="127.0.0.1", port=office_port, start_tls=False)
        await counsellor.wait_for(room, process.user_id, "Es ist jeden Abend so.")
        assert bot.conductor.router.queue() == []
        assert len(bot.conductor.router.snapshot().conversations) == 1


async def test_chat_to_mail_to_chat_keeps_one_case_and_one_counsellor(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with mail_office(synapse, user_factory, tmp_path) as office:
        provider, counsellor, user, process, bot = (
            office.provider, office.counsellor, office.counsellor_user, office.process,
            office.bot)
        youth_user = await user_factory("youth")
        youth = await NioYouth.login(synapse.base_url, youth_user.user_id,
                                     youth_user.password, tmp_path / "y")
        youth.start()
        office.closing.append(youth)
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "ich muss gleich los, kann ich auch mailen?")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await counsellor.accept_invite()
        record = await bot.store.conversation_by_room(room)  # type: ignore[arg-type]
        assert record is not None
        case = record.conversation

        # Chat -> mail, with a plain warning first.
        await youth.send(room, "mail")
        warning = await youth.wait_for(room, process.user_id, "NICHT Ende-zu-Ende")
        assert "Mailadresse" in warning
        await youth.send(room, YOUTH)
        await address_proven(youth, room, process.user_id, provider, YOUTH)
        conv = bot.conductor.router.conversation(case)
        assert conv is not None
        assert conv.channel.value == "mail"
        assert conv.assigned_to == user.user_id
        intake = [i.body for i in await bot.store.read_intake(case)]
        assert YOUTH.encode() not in intake, "the address is not kept as a message"

        # The counsellor's words now go out as mail; the youth's answer comes back here.
        await counsellor.send(room, "Klar, schreib mir, wann immer du magst.")
        out = await asyncio.wait_for(provider.inbox.get(), 30)
        assert out["To"] == YOUTH
        await aiosmtplib.send(
            youth_mail("Danke, bin jetzt zu Hause.", "<k9@youth.example>",
                       In_Reply_To=out["Message-ID"], References=out["Message-ID"]),
            hostname="127.0.0.1", port=bot.mail.inbound.port, start_tls=False)
        await counsellor.wait_for(room, process.user_id, "bin jetzt zu Hause")

        # Mail -> chat: the youth simply writes in the chat again.
        await youth.send(room, "jetzt lieber wieder hier")
        await youth.wait_for(room, process.user_id, "wieder im Chat")
        conv = bot.conductor.router.conversation(case)
        assert conv is not None
        assert conv.channel.value == "chat"
        assert conv.assigned_to == user.user_id
        assert len(bot.conductor.router.snapshot().conversations) == 1


async def test_a_mail_youth_is_invited_into_live_chat_anonymously(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with mail_office(synapse, user_factory, tmp_path, admin=True) as office:
        counsellor, user, process, bot = (
            office.counsellor, office.counsellor_user, office.process, office.bot)
        assert bot.mail is not None
        _staff_room, room, acknowledgement = await mail_taken(
            office, "Kann ich auch chatten?", "<c1@youth.example>")
        assert "angekommen" in acknowledgement
        invitation, code = await case_code_mailed(office, room)
        token = re.search(r"nach einem Code gefragt wird: (\S+)", invitation)
        assert token is not None
        assert synapse.base_url in invitation or "http" in invitation

        # Anonymous sign-up with the token: a nickname and a password, nothing else.
        http = MatrixHttp(synapse.http, synapse.base_url)
        body = {"username": f"kim-{secrets.token_hex(3)}", "password": "geheim und lang 42"}
        status, flows = await http.call("POST", "/_matrix/client/v3/register", body)
        assert status == 401
        auth = {"type": "m.login.registration_token", "token": token.group(1),
                "session": flows["session"]}
        status, registered = await http.call("POST", "/_matrix/client/v3/register",
                                             {**body, "auth": auth})
        if status == 401:
            status, registered = await http.call(
                "POST", "/_matrix/client/v3/register",
                {**body, "auth": {"type": "m.login.dummy", "session": flows["session"]}})
        assert status == 200, registered

        youth = await NioYouth.login(synapse.base_url, registered["user_id"], body["password"],
                                     tmp_path / "y")
        youth.start()
        office.closing.append(youth)
        first = await youth.open_chat(process.user_id)
        await youth.wait_for(first, process.user_id, "anonym")
        await youth.send(first, code)
        joined = await youth.accept_invite()
        assert joined == room, "the youth joins the existing conversation's room"
        await youth.send(room, "hallo, jetzt bin ich im chat")
        await counsellor.wait_for(room, registered["user_id"], "jetzt bin ich im chat")
        # The counsellor may see the message before the bot has handled it.
        await until(lambda: bot.conductor.router.snapshot().conversations[0].channel.value
                    == "chat", what="the channel to switch back to chat")
        snapshot = bot.conductor.router.snapshot()
        assert len(snapshot.conversations) == 1
        [conversation] = snapshot.conversations
        assert conversation.channel.value == "chat"
        assert conversation.assigned_to == user.user_id
        # The code works once.
        assert await bot.mail.codes.redeem_case_code(
            Change(bot.clock.now(), None), code) is None
