"""Issue 8: after a full conversation - intake, crisis flag, transcript, mail switch, mail
in and out, close, feedback - no canary is in any file of the service or in any log line."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import aiosmtplib
import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import LogCollector, NioYouth, until
from tests.support.mail_e2e import address_proven, mail_office, youth_mail

pytestmark = pytest.mark.integration


@pytest.fixture
def logs() -> Iterator[LogCollector]:
    collector = LogCollector()
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    root.setLevel(old)


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.name}: {n.decode()}" for n in needles if n in content]
    return found


async def test_no_canary_at_rest_or_in_logs_after_a_full_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, logs: LogCollector
) -> None:
    words, mailed = f"KANARIE-{secrets.token_hex(6)}", f"MAILKANARIE-{secrets.token_hex(6)}"
    address = f"kanarie-{secrets.token_hex(4)}@youth.example"
    async with mail_office(synapse, user_factory, tmp_path, bot_dir="service") as office:
        provider, counsellor, process, bot = (
            office.provider, office.counsellor, office.process, office.bot)
        youth_user = await user_factory("youth")
        youth = await NioYouth.login(synapse.base_url, youth_user.user_id,
                                     youth_user.password, tmp_path / "y")
        youth.start()
        office.closing.append(youth)
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        staff_room = await counsellor.accept_invite()
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, f"ich will nicht mehr leben {words}")
        await counsellor.wait_for(staff_room, process.user_id, "KRISENHINWEIS")
        await counsellor.send(staff_room, "!duty on")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await counsellor.accept_invite()
        await counsellor.wait_for(room, process.user_id, words)  # the transcript, E2E
        await counsellor.send(room, "!confirm")

        await youth.send(room, "mail")
        await youth.wait_for(room, process.user_id, "Mailadresse")
        await youth.send(room, address)
        await address_proven(youth, room, process.user_id, provider, address)
        await counsellor.send(room, "Schreib mir gern, wie es dir geht.")
        out = await asyncio.wait_for(provider.inbox.get(), 30)
        answer = youth_mail(f"Es geht so. {mailed}", f"<{secrets.token_hex(4)}@youth.example>",
                            In_Reply_To=out["Message-ID"], References=out["Message-ID"])
        answer.replace_header("From", address)  # threads are bound to the sender
        await aiosmtplib.send(answer, hostname="127.0.0.1", port=bot.mail.inbound.port,
                              start_tls=False)
        await counsellor.wait_for(room, process.user_id, mailed)
        await counsellor.send(room, "!close")
        await youth.wait_for(room, process.user_id, "1 (gar nicht) bis 5")
        await youth.send(room, "5")
        await youth.wait_for(room, process.user_id, "Danke für deine Rückmeldung")

    needles = [words.encode(), mailed.encode(), address.encode()]
    assert files_containing(process.layout.root, needles) == [], "plaintext in the service's files"
    assert files_containing(synapse.layout.root, needles) == [], "plaintext in Synapse's files"
    leaked = [line for line in logs.lines if any(n.decode() in line for n in needles)]
    assert leaked == [], "plaintext in a log line"
