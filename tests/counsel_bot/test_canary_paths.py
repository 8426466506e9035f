"""Paths added after issue 8's canary (test_canary_full) keep no canary at rest or in a log
line at DEBUG, under the bot's own logging set-up: a youth's message and its edit (kept in
intake under "{original}~edit~{edit}"), case notes (in the staff room and typed in the
youth's room), snippets, the transcript, the close; a conversation begun by mail with a long
letter posted in several messages, its subject, sender and Message-ID. Nor the youth's
nickname or account in a log line."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import aiosmtplib
import pytest
from nio import RoomSendResponse

from counsel_bot.conversation.forum import ForumTopic
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.runner import configure_logging
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_canary_full import files_containing
from tests.groups.evening import join, setting
from tests.support.bot_harness import (
    LogCollector,
    login,
    office,
    on_duty,
    provision_bot,
    until,
)
from tests.support.mail_e2e import mail_office, youth_mail

pytestmark = pytest.mark.integration


@pytest.fixture
def logs() -> Iterator[LogCollector]:
    """Every record at DEBUG, under the bot's own logging set-up (`[logging] level`)."""
    names = ("", "nio", "peewee", "aiohttp", "aiosqlite")
    levels = {name: logging.getLogger(name).level for name in names}
    configure_logging("DEBUG")
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    collector = LogCollector()
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_no_canary_at_rest_or_in_logs_after_edits_notes_and_snippets(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, logs: LogCollector
) -> None:
    tag = secrets.token_hex(5)
    words, edited = f"KANARIE-{tag}-W", f"KANARIE-{tag}-E"
    note, aside, snippet = f"KANARIE-{tag}-N", f"KANARIE-{tag}-A", f"KANARIE-{tag}-S"
    nickname = f"Nickkanarie{tag}"
    async with office(synapse, user_factory, tmp_path) as o:
        bot, counsellor, youth = o.bot_user, o.counsellor, o.youth
        staff_room = await on_duty(counsellor, bot)
        await youth.client.set_displayname(nickname)
        room = await youth.open_chat(bot)
        await youth.wait_for(room, bot, "anonym")
        await youth.wait_for_join(room)
        sent = await youth.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": f"mir geht es {words}"},
            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)
        assert await counsellor.accept_invite() == room
        await counsellor.wait_for(room, bot, words)  # the transcript
        await youth.client.room_send(room, "m.room.message", {
            "msgtype": "m.text", "body": f"* mir geht es {edited}",
            "m.new_content": {"msgtype": "m.text", "body": f"mir geht es {edited}"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": sent.event_id},
        }, ignore_unverified_devices=True)

        async def edit_kept() -> bool:
            record = await o.bot.store.conversation_by_room(RoomID(room))
            return record is not None and any(
                edited in i.body.decode() for i in await o.bot.store.read_intake(
                    record.conversation))
        await until(edit_kept, what="the edit kept in intake")
        record = await o.bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        await counsellor.send(staff_room, f"!note {record.conversation} {note}")
        await counsellor.wait_for(staff_room, bot, "gespeichert")
        await counsellor.send(staff_room, f"!snippet add gruss Hallo {snippet}")
        await counsellor.send(staff_room, "!s gruss")
        await counsellor.wait_for(staff_room, bot, snippet)
        await counsellor.send(room, f"!note {aside}")
        await counsellor.wait_for(staff_room, bot, "aus dem Raum der Person gelöscht")
        await counsellor.send(room, "!close")
        await youth.wait_for(room, bot, "1 (gar nicht) bis 5")
        await o.process.stop()

    needles = [n.encode() for n in (words, edited, note, aside, snippet, nickname)]
    assert files_containing(o.process.layout.root, needles) == [], "plaintext in the bot's files"
    leaked = [line for line in logs.lines
              if any(n in line for n in (words, edited, note, aside, snippet, nickname,
                                         youth.client.user_id))]
    assert leaked == [], "plaintext or the youth's account in a log line"


async def test_no_canary_at_rest_or_in_logs_after_a_conversation_begun_by_mail(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    logs: LogCollector,
) -> None:
    tag = secrets.token_hex(5)
    subject, first, last = f"KANARIE-{tag}-S", f"KANARIE-{tag}-F", f"KANARIE-{tag}-L"
    name, local, mid = f"Kanarie{tag}N", f"kanarie-{tag}", f"kanarie-{tag}-mid"
    address = f"{local}@youth.example"
    answer_words = f"KANARIE-{tag}-A"
    said, corrected = f"KANARIE-{tag}-R", f"KANARIE-{tag}-C"
    long_text = first + " " + ("Ich kann nicht mehr schlafen. " * 1500) + last
    async with mail_office(synapse, user_factory, tmp_path) as office:
        provider, counsellor, process, bot = (
            office.provider, office.counsellor, office.process, office.bot)
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        port = bot.mail.inbound.port
        staff_room = await counsellor.accept_invite()
        mail = youth_mail(long_text, f"<{mid}@youth.example>")
        mail.replace_header("From", f"{name} <{address}>")
        mail.replace_header("Subject", subject)
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, start_tls=False)
        await counsellor.wait_for(staff_room, process.user_id, "Mail-Anfrage")
        ack = await asyncio.wait_for(provider.inbox.get(), 30)
        await counsellor.send(staff_room, "!duty on")
        await until(lambda: len(counsellor.invited_to()) == 1, what="the mail room invite")
        room = await counsellor.accept_invite()
        await counsellor.wait_for(room, process.user_id, first)
        await counsellor.wait_for(room, process.user_id, last)
        sent = await counsellor.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": f"Danke. {said}"},
            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)
        reply = await asyncio.wait_for(provider.inbox.get(), 30)
        assert reply["In-Reply-To"] == ack["Message-ID"]
        # Corrected by an edit: it goes out as a correction mail.
        await counsellor.client.room_send(room, "m.room.message", {
            "msgtype": "m.text", "body": f"* Danke. {corrected}",
            "m.new_content": {"msgtype": "m.text", "body": f"Danke. {corrected}"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": sent.event_id},
        }, ignore_unverified_devices=True)
        correction = await asyncio.wait_for(provider.inbox.get(), 30)
        assert corrected in correction.get_content()
        again = youth_mail(f"Es geht so. {answer_words}", f"<{mid}-2@youth.example>",
                           In_Reply_To=reply["Message-ID"], References=reply["Message-ID"])
        again.replace_header("From", f"{name} <{address}>")
        await aiosmtplib.send(again, hostname="127.0.0.1", port=port, start_tls=False)
        await counsellor.wait_for(room, process.user_id, answer_words)
        await process.stop()

    words = [subject, first, last, name, local, mid, answer_words, said, corrected]
    needles = [w.encode() for w in words]
    assert files_containing(process.layout.root, needles) == [], "plaintext in the bot's files"
    assert files_containing(synapse.layout.root, needles) == [], "plaintext in Synapse's files"
    leaked = [line for line in logs.lines if any(w in line for w in words)]
    assert leaked == [], "plaintext in a log line"


async def test_no_canary_at_rest_or_in_logs_after_a_forum_post(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, logs: LogCollector,
) -> None:
    """A post waits (sealed), is listed to the staff, approved and shown in the forum."""
    posted = f"KANARIE-{secrets.token_hex(5)}-P"
    host = await login(synapse, user_factory, tmp_path, "host")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id])
    process.settings = replace(process.settings, forum=(ForumTopic("schule", "Schule"),))
    await process.start()
    bot = process.user_id
    try:
        staff_room = await setting(process, "staff_room")
        forum_room = await setting(process, "forum_room:schule")
        await join(host, staff_room)
        home = await youth.open_chat(bot)
        await youth.wait_for(home, bot, "anonym")
        await youth.send(home, f"forum schule Wie lernt ihr? {posted}")
        await youth.wait_for(home, bot, "wartet jetzt auf die Freigabe")
        new = await host.wait_for(staff_room, bot, "Neuer Forum-Beitrag")
        post = re.search(r"P-[0-9A-F]{8}", new)
        assert post
        await host.send(staff_room, "!forum pending")
        await host.wait_for(staff_room, bot, posted)
        await host.send(staff_room, f"!forum approve {post[0]}")
        await host.wait_for(staff_room, bot, "ist freigegeben")
        await join(host, forum_room)
        await host.wait_for(forum_room, bot, posted)
    finally:
        await process.stop()
        for client in (host, youth):
            await client.close()
    assert files_containing(process.layout.root, [posted.encode()]) == [], \
        "plaintext in the bot's files"
    assert files_containing(synapse.layout.root, [posted.encode()]) == [], \
        "plaintext in Synapse's files"
    assert not [line for line in logs.lines if posted in line], "plaintext in a log line"
