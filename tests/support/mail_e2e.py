"""A bot with mail on, on real Synapse, and the youth's mail provider (a real SMTP server on
loopback): what the mail tests on real Synapse share."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP

from counsel_bot.channels.matrix.bot import CounselBot
from homeserver_bridge.mail import MailSettings
from homeserver_bridge.paths import write_private
from tests.conftest import SynapseHandle, TestUser, UserFactory
from tests.support.bot_harness import BotProcess, NioYouth, provision_bot, until

OFFICE = "beratung@test.localhost"
YOUTH = "kim@youth.example"


@dataclass
class Provider:
    """The youth's mail provider: keeps what the office sends."""

    inbox: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await self.inbox.put(message_from_bytes(envelope.original_content, policy=default))
        return "250 OK"


async def start_provider() -> tuple[Provider, asyncio.Server, int]:
    """The youth's mail provider on a free loopback port."""
    provider = Provider()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(provider), host="127.0.0.1", port=0)
    return provider, server, server.sockets[0].getsockname()[1]


def office_mail(provider_port: int) -> MailSettings:
    """The office's mail settings: listening on a free port, relaying to the provider."""
    return MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                        smtp_host="127.0.0.1", smtp_port=provider_port, smtp_starttls=False)


@dataclass
class MailOffice:
    """A bot with mail on, the youth's provider, and one counsellor; all closed together."""

    provider: Provider
    counsellor: NioYouth
    counsellor_user: TestUser
    process: BotProcess
    bot: CounselBot
    closing: list[NioYouth] = field(default_factory=list)


@contextlib.asynccontextmanager
async def mail_office(
    synapse: SynapseHandle, user_factory: UserFactory, tmp: Path, *, bot_dir: str = "bot",
    admin: bool = False,
) -> AsyncIterator[MailOffice]:
    provider, server, port = await start_provider()
    user = await user_factory("counsellor")
    counsellor = await NioYouth.login(synapse.base_url, user.user_id, user.password, tmp / "c")
    counsellor.start()
    process = await provision_bot(synapse, tmp / bot_dir, staff=[user.user_id])
    process.settings = replace(process.settings, mail=office_mail(port))
    if admin:
        # The bridge's admin token lets the bot issue a single-use registration token.
        write_private(process.layout.admin_token_file, synapse.admin.access_token)
    office = None
    try:
        bot = await process.start()
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        office = MailOffice(provider, counsellor, user, process, bot)
        yield office
    finally:
        await process.stop()
        await counsellor.close()
        for client in office.closing if office else ():
            await client.close()
        server.close()


def youth_mail(text: str, message_id: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Kim <{YOUTH}>"
    message["To"] = OFFICE
    message["Subject"] = "Ich weiß nicht weiter"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message



async def address_proven(youth: NioYouth, room: str, bot: str, provider: Any,
                         address: str) -> None:
    """The chat youth who gave ``address`` types back the code mailed there (nothing else
    goes there before), and the conversation goes on by mail."""
    await youth.wait_for(room, bot, "Code an")
    proof = await asyncio.wait_for(provider.inbox.get(), 30)
    assert proof["To"] == address
    found = re.search(r"\b(\d{6})\b", str(proof.get_content()))
    assert found is not None, "no code in the mail"
    await youth.send(room, found[1])
    await youth.wait_for(room, bot, "Ab jetzt geht es per Mail weiter")


async def mail_taken(office: MailOffice, words: str, message_id: str) -> tuple[str, str, str]:
    """The counsellor goes on duty; Kim mails ``words``; the counsellor is invited into the
    mail's room, joins and reads it: the staff room, the mail's room, and the words of the
    acknowledgement Kim got."""
    counsellor, bot = office.counsellor, office.bot
    assert bot.mail is not None
    assert bot.mail.inbound is not None
    staff_room = await counsellor.accept_invite()
    await counsellor.send(staff_room, "!duty on")
    await aiosmtplib.send(youth_mail(words, message_id), hostname="127.0.0.1",
                          port=bot.mail.inbound.port, start_tls=False)
    await until(lambda: len(counsellor.invited_to()) == 1, what="the mail room invite")
    room = await counsellor.accept_invite()
    await counsellor.wait_for(room, office.process.user_id, words)
    acknowledgement = (await asyncio.wait_for(office.provider.inbox.get(), 30)).get_content()
    return staff_room, room, str(acknowledgement)


async def case_code_mailed(office: MailOffice, room: str) -> tuple[str, str]:
    """The counsellor sends `!chat` in the mail's room: the invitation Kim got, and its
    case code."""
    await office.counsellor.send(room, "!chat")
    invitation = str((await asyncio.wait_for(office.provider.inbox.get(), 30)).get_content())
    code = re.search(r"Fall-Code: ([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})", invitation)
    assert code is not None, invitation
    return invitation, code.group(1)
