"""The order of a stop. The runner used to let the bot's loop end and its outbox drain,
and only later (in the exit stack) stop the inbound SMTP server (an outside review of stops
found it). A mail
delivered in between, or one whose delivery was in progress (awaiting the homeserver for
its room) as the drain ended, is committed with its effects (the staff notice, and for
crisis words the urgent crisis alert) after the worker has ended: they wait in the outbox
until the next start. The same holds for the retention loop, cancelled only after the drain.

Now the bot stops the mail server (letting a delivery in progress finish) and the retention
loop after its sync loop and before the outbox's last drain. The mail here arrives just
after `CounselBot.run` returned (outbox drained): it must be refused, so the sender's server
keeps it for the next start, not taken with 250 and its effects left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import PASSPHRASE
from tests.support.mail_e2e import mail_office, youth_mail

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


async def test_no_mail_is_taken_after_the_last_drain(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_run = CounselBot.run
    answers: list[object] = []

    async def run_then_mail(self: CounselBot, stop: Any) -> None:
        await real_run(self, stop)  # the loop ended and the outbox drained
        if stop.is_set() and self.mail is not None and self.mail.inbound is not None:
            try:
                answers.append(await aiosmtplib.send(
                    youth_mail(CRISIS, "<late@youth.example>"), hostname="127.0.0.1",
                    port=self.mail.inbound.port, start_tls=False))
            except (aiosmtplib.SMTPException, OSError) as refused:
                answers.append(refused)  # the sender's server keeps it and tries again

    monkeypatch.setattr(CounselBot, "run", run_then_mail)
    data = tmp_path / "bot"
    async with mail_office(synapse, user_factory, tmp_path) as office:
        await office.counsellor.accept_invite()  # the staff room
    # mail_office stopped the bot: the mail came during its stop, after the last drain.
    assert len(answers) == 1
    assert isinstance(answers[0], Exception), f"taken (250) after the last drain: {answers}"

    vault = Vault.open(data / "bot" / "vault.json", PASSPHRASE)
    store = await SqliteStore.open(data / "bot" / "counsel.db", vault)
    try:
        left = [entry.key for entry in await store.pending_outbox()]
    finally:
        await store.close()
    assert left == [], f"left for the next start: {left}"
