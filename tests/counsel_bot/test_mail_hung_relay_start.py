"""A start with mails pending while the relay hangs (takes the connection, never answers).

The bot's first sync performs what the missed events caused before it reads the next one
(`outbox.drain`). It waited for the pending mails too: each held one of the two mail slots
for the relay's timeout, so with a few mail conversations the bot read nothing for minutes,
a youth's crisis words among it. Real Synapse, a real SMTP client against a relay that
never greets."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

import aiosmtplib
import pytest

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.runtime.runner import run_bot
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until
from tests.support.mail_e2e import office_mail, youth_mail

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"
MAIL_YOUTHS = 4


async def test_pending_mails_to_a_hung_relay_do_not_hold_up_the_first_sync(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    held: list[asyncio.StreamWriter] = []

    async def never_greets(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    relay = await asyncio.start_server(never_greets, host="127.0.0.1", port=0)
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    process.settings = replace(process.settings, mail=replace(
        office_mail(relay.sockets[0].getsockname()[1]), smtp_timeout_seconds=60.0))
    running: asyncio.Task[None] | None = None
    stop = asyncio.Event()
    try:
        bot = await process.start()
        staff_room = await counsellor.accept_invite(within=60)
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        for n in range(MAIL_YOUTHS):
            mail = youth_mail("Meine Eltern streiten nur noch.", f"<m{n}@youth.example>")
            mail.replace_header("From", f"Kim <kim{n}@youth.example>")
            await aiosmtplib.send(mail, hostname="127.0.0.1", port=bot.mail.inbound.port,
                                  start_tls=False)

        async def acknowledgements_pending() -> bool:
            pending = await bot.store.pending_outbox()
            return sum(entry.key.startswith("mail-ack:") for entry in pending) == MAIL_YOUTHS

        await until(acknowledgements_pending, within=60)
        await process.stop()

        # Started again: the acknowledgements are still pending, the relay still hangs.
        made: asyncio.Future[CounselBot] = asyncio.get_running_loop().create_future()
        running = asyncio.create_task(run_bot(
            process.settings, process.layout, process.layout.root, stop,
            on_ready=made.set_result))
        await asyncio.wait_for(made, 60)
        room = await youth.open_chat(process.user_id)
        await youth.send(room, CRISIS)
        await counsellor.wait_for(staff_room, process.user_id, "KRISENHINWEIS", within=45)
    finally:
        stop.set()
        if running is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(running, 30)
        if process._task is not None:
            await process.stop()
        for writer in held:
            writer.close()
        relay.close()
        await youth.close()
        await counsellor.close()
