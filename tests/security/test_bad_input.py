"""Issue 8, bad input: what a youth's client can put into an m.room.message, sent for real
(encrypted) through Synapse to the running bot. No crash, nothing lost, a sensible reply.

One office per module: a counsellor who is off duty at first (so everything the youth writes
is kept for them), one youth for the hostile and malformed events, and one for large bodies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from nio import RoomSendError, RoomSendResponse

from counsel_bot.channels.matrix.executor import TRANSCRIPT_CHUNK
from counsel_bot.core.ids import ConversationID
from tests.conftest import SynapseHandle
from tests.security.support import (
    BotWatch,
    conversation_of,
    intake,
    new_client,
    send_content,
    send_text,
    user_of,
)
from tests.support.bot_harness import BotProcess, LogCollector, NioYouth, provision_bot, until

pytestmark = pytest.mark.integration

# Matrix limits a whole event to 65,536 bytes; Megolm ciphertext is base64 of the JSON, so
# the plaintext a client can send encrypted is about three quarters of that.
SIXTY_FOUR_KB = 64 * 1024
LARGEST_ENCRYPTED_BODY = 45_000

RTL_AND_INVISIBLE = (
    "ich \u202eredeiw\u202c hier \u200bzero\u200cwidth\u200d\u2060joiner\ufeff "
    "\u2067isolate\u2069 \u200f\u200e ende"
)
HOSTILE_HTML = {
    "msgtype": "m.text",
    "body": "schau mal <b>hier</b>",
    "format": "org.matrix.custom.html",
    "formatted_body": (
        "<script>alert('PAYLOAD-SCRIPT')</script><img src=x onerror=\"PAYLOAD-ONERROR()\">"
        "<a href=\"javascript:PAYLOAD-LINK()\">hier</a>"
    ),
}
FAKE_MXC = "mxc://test.localhost/notARealUpload"
FILES_AND_UNKNOWN: dict[str, dict[str, Any]] = {
    "image": {"msgtype": "m.image", "body": "foto.jpg", "url": FAKE_MXC,
              "info": {"mimetype": "image/jpeg", "size": 1234}},
    "file": {"msgtype": "m.file", "body": "zeugnis.pdf", "url": FAKE_MXC,
             "info": {"mimetype": "application/pdf", "size": 4321}},
    "weird": {"msgtype": "m.weird", "body": "eine nachricht mit unbekanntem typ"},
}
MALFORMED: dict[str, dict[str, Any]] = {
    "missing body": {"msgtype": "m.text"},
    "int body": {"msgtype": "m.text", "body": 42},
    "list body": {"msgtype": "m.text", "body": ["a", "b"]},
    "no msgtype": {"body": "ohne msgtype"},
    "null body": {"msgtype": "m.text", "body": None},
}


@dataclass
class Office:
    bot: BotProcess
    watch: BotWatch
    staff_room: str
    counsellor: NioYouth
    youth: NioYouth
    room: str
    conversation: ConversationID
    big_youth: NioYouth
    big_room: str
    big_conversation: ConversationID


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def office(
    synapse: SynapseHandle, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Office]:
    tmp = tmp_path_factory.mktemp("bad-input")
    counsellor, youth, big_youth = [await new_client(synapse, tmp, name)
                                    for name in ("counsellor", "youth", "big-youth")]
    process = await provision_bot(synapse, tmp / "bot", staff=[user_of(counsellor)])
    try:
        bot = await process.start()
        watch = BotWatch.attach(bot)
        staff_room = await counsellor.accept_invite()
        # Room for both: "!duty on" invites the counsellor to both conversations, whichever
        # the queue puts first (a crisis flag reorders it, and the model flags some of the
        # filler below, "nach dem html", as it flags other short vague German).
        await send_text(counsellor, staff_room, "!capacity 2")
        await until(lambda: any("Kapazität 2" in b for b in watch.said_in(staff_room)),
                    what="the capacity to be set")
        chats = []
        for client in (big_youth, youth):
            room = await client.open_chat(process.user_id)
            await client.wait_for(room, process.user_id, "anonym")
            await send_text(client, room, "hallo")
            chats.append((room, await conversation_of(process, room)))
        yield Office(process, watch, staff_room, counsellor, youth, *chats[1], big_youth,
                     *chats[0])
    finally:
        await process.stop()
        for client in (counsellor, youth, big_youth):
            await client.close()


async def still_answers(office: Office, text: str) -> None:
    """The bot is alive and unchanged: an ordinary message is kept, as always."""
    event_id = await send_text(office.youth, office.room, text)
    await office.watch.settle(event_id)
    assert (await intake(office.bot, office.conversation))[-1] == text


async def test_invisible_and_direction_characters_are_kept_exactly(office: Office) -> None:
    event_id = await send_text(office.youth, office.room, RTL_AND_INVISIBLE)
    await office.watch.settle(event_id)
    assert (await intake(office.bot, office.conversation))[-1] == RTL_AND_INVISIBLE


async def test_hostile_html_keeps_only_the_plain_body(office: Office) -> None:
    event_id = await send_content(office.youth, office.room, HOSTILE_HTML)
    await office.watch.settle(event_id)
    kept = (await intake(office.bot, office.conversation))[-1]
    assert kept == HOSTILE_HTML["body"]
    assert "PAYLOAD" not in kept
    await still_answers(office, "nach dem html")


@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_malformed_message_events_do_not_crash_the_bot(office: Office, kind: str) -> None:
    before = await intake(office.bot, office.conversation)
    event_id = await send_content(office.youth, office.room, MALFORMED[kind])
    await office.watch.settle(event_id)
    assert office.bot.bot is not None
    follow_up = f"weiter nach {kind}"
    await still_answers(office, follow_up)
    # Nothing invented, nothing dropped: a readable body is kept like any message (the
    # youth's words), otherwise only the follow-up was added.
    body = MALFORMED[kind].get("body")
    kept = [body] if isinstance(body, str) else []
    assert await intake(office.bot, office.conversation) == [*before, *kept, follow_up]


@pytest.mark.parametrize("kind", sorted(FILES_AND_UNKNOWN))
async def test_files_and_unknown_types_do_not_crash_the_bot(office: Office, kind: str) -> None:
    event_id = await send_content(office.youth, office.room, FILES_AND_UNKNOWN[kind])
    await office.watch.settle(event_id)
    await still_answers(office, f"weiter nach {kind}")


@pytest.mark.parametrize("kind", sorted(FILES_AND_UNKNOWN))
async def test_files_and_unknown_types_get_a_reply_and_are_noted(
    office: Office, kind: str
) -> None:
    content = FILES_AND_UNKNOWN[kind]
    mark = office.watch.mark()
    event_id = await send_content(office.youth, office.room, content)
    await office.watch.settle(event_id)
    assert office.watch.said_in(office.room, mark), "no reply to the youth"
    # The body is the fallback text every client shows (the spec's rule for unknown
    # msgtypes, and a file's name): the counsellor should read it in the transcript too.
    # The bot keeps a note naming the kind ("[Datei: zeugnis.pdf]") around the body.
    assert content["body"] in (await intake(office.bot, office.conversation))[-1]


async def test_a_64_kb_body_cannot_be_sent_encrypted(office: Office) -> None:
    """Documents the limit the youth's own client meets: the encrypted event would exceed
    Matrix's 64 KiB event size, so Synapse refuses it and nothing reaches the bot."""
    before = await intake(office.bot, office.big_conversation)
    answer = await office.big_youth.client.room_send(
        office.big_room, "m.room.message", {"msgtype": "m.text", "body": "x" * SIXTY_FOUR_KB},
        ignore_unverified_devices=True)
    assert isinstance(answer, RoomSendError), answer
    assert answer.status_code == "M_TOO_LARGE"
    await still_answers(office, "nach dem zu grossen")
    assert await intake(office.bot, office.big_conversation) == before


def large_body(size: int, alphabet: str) -> str:
    """Recognisable at every position, so a lost or repeated piece shows."""
    pieces: list[str] = []
    total = 0
    n = 0
    while total < size:
        piece = f"{alphabet}{n:06d} "
        pieces.append(piece)
        total += len(piece)
        n += 1
    return "".join(pieces)[:size]


async def test_the_largest_body_is_kept_whole_and_the_transcript_arrives_in_chunks(
    office: Office,
) -> None:
    body = large_body(LARGEST_ENCRYPTED_BODY, "Absatz")
    answer = await office.big_youth.client.room_send(
        office.big_room, "m.room.message", {"msgtype": "m.text", "body": body},
        ignore_unverified_devices=True)
    assert isinstance(answer, RoomSendResponse), answer
    await office.watch.settle(str(answer.event_id))
    assert await intake(office.bot, office.big_conversation) == ["hallo", body]
    await take_over(office, office.big_room, "!duty on")
    chunks = await transcript_chunks(office, office.big_room, len(body))
    assert len(chunks) >= 2
    assert all(len(chunk) <= TRANSCRIPT_CHUNK for chunk in chunks)
    assert body in "".join(chunks).replace("\n", "")


async def take_over(office: Office, room: str, command: str) -> None:
    """The counsellor says ``command`` (on duty, more capacity) and joins the youth's room
    the bot then invites them to."""
    counsellor = office.counsellor.client
    await send_text(office.counsellor, office.staff_room, command)
    await until(lambda: room in counsellor.invited_rooms, what="the counsellor's invitation")
    await counsellor.join(room)
    await until(lambda: room in counsellor.rooms and room not in counsellor.invited_rooms,
                what="the counsellor's join to sync")


async def transcript_chunks(office: Office, room: str, size: int) -> list[str]:
    """The transcript the counsellor received, without its headers, once ``size``
    characters of it have arrived; fails as soon as the bot reports it could not send it."""
    failures = LogCollector()
    executor_log = logging.getLogger("counsel_bot.channels.matrix.executor")
    executor_log.addHandler(failures)

    def parts() -> list[str]:
        return [body.split("\n", 1)[1] for r, s, body in office.counsellor.received
                if r == room and s == office.bot.user_id and "deine bisherigen Nachrichten" in body]

    def arrived_or_failed() -> bool:
        return sum(len(p) for p in parts()) >= size or any(
            "effect transcript failed" in line for line in failures.lines)

    try:
        await until(arrived_or_failed, what="the whole transcript")
    finally:
        executor_log.removeHandler(failures)
    assert not failures.lines, failures.lines
    return parts()


async def test_transcript_of_many_multibyte_characters_reaches_the_counsellor(
    office: Office,
) -> None:
    """Emoji cost twelve bytes each on the wire (nio's JSON escapes them as surrogate pairs):
    the transcript must be split by encoded size, not by characters, or a chunk exceeds
    Matrix's event limit and is refused. Each message alone fits; together they do not."""
    youth = office.youth
    messages = [large_body(5_000, "🙂🌧🙂🌧🙂🌧🙂🌧") for _ in range(3)]
    for message in messages:
        event_id = await send_text(youth, office.room, message)
        await office.watch.settle(event_id)
    kept = await intake(office.bot, office.conversation)
    assert kept[-3:] == messages
    await take_over(office, office.room, "!capacity 2")
    chunks = await transcript_chunks(office, office.room, sum(len(m) for m in kept))
    joined = "".join(chunks).replace("\n", "")
    assert all(re.sub(r"\s", "", m) in re.sub(r"\s", "", joined) for m in messages)
