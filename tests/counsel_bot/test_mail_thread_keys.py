"""A youth's mail finds its conversation again, and the database file alone tells nobody
whose conversations these are: the thread keys and the replies' Message-IDs are derived
under a sealed secret; the unkeyed keys of older versions are replaced at start, replies in
flight included."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from counsel_bot.channels.mail.mail_keys import thread_key
from counsel_bot.channels.mail.thread_index import LEGACY_PREFIX, PREFIX, seeded
from counsel_bot.core.effects import SendMail, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.store import MemoryStore, SqliteStore, Store
from homeserver_bridge.mail import InboundMail, legacy_key_for, new_message_id
from tests.store.conftest import AeadSealer
from tests.support.mail_office import (
    AT,
    OFFICE,
    Office,
    RecordingSender,
    counsellor_replies,
    office_on,
    perform_mails,
)

YOUTH = "lena.meier2009@web.de"
FIRST = InboundMail(message_id="<m1@web.de>", in_reply_to=None, references=(),
                    subject="Hilfe", from_address=YOUTH, reply_address=YOUTH,
                    text="Hallo", attachments=())


def answer(message_id: str, *to: str) -> InboundMail:
    """The youth's answer: In-Reply-To the last of `to`, References all of them."""
    return InboundMail(message_id=message_id, in_reply_to=to[-1], references=to,
                       subject="Re: Hilfe", from_address=YOUTH, reply_address=YOUTH,
                       text="Danke.", attachments=())


async def lena_writes(office: Office) -> ConversationID:
    conversation = await office.mail.mail_opened(RoomID("!mail:x"), f"mailto:{YOUTH}", "de",
                                                 AT, thread=FIRST)
    await office.mail.mail_received(conversation, EventID("mail:1"), "✉ Hilfe\n\nHallo", AT,
                                    written="Hallo")
    return conversation


def old_reply_id(outbox_key: str) -> str:
    """The Message-ID older versions gave a reply: from its outbox key alone."""
    return new_message_id(OFFICE, seeded(hashlib.sha256(outbox_key.encode()).digest()))


async def test_the_database_file_alone_does_not_confirm_a_guessed_mail_address(
    tmp_path: Path,
) -> None:
    """Whoever holds counsel.db (a backup, the hoster) but not the vault passphrase cannot
    test guessed addresses ("is my daughter's address among the counselled?") against it:
    not against the thread keys, and not with a reply's Message-ID computed from its outbox
    key. Before, the keys were an unkeyed SHA-256 of address and id, and the ids came from
    the outbox keys, both kept in the clear."""
    store = await SqliteStore.open(tmp_path / "counsel.db", AeadSealer())
    sender = RecordingSender()
    office = await office_on(store, sender)
    try:
        conversation = await lena_writes(office)
        await counsellor_replies(office, conversation, "$reply", "Hallo Lena, schön, dass "
                                 "du schreibst.")
        await perform_mails(office)
        [reply] = sender.sent
        # The thread works: her answer to the reply continues the conversation.
        await office.mail.deliver(answer("<m2@web.de>", str(reply["Message-ID"])))
        assert [c.conversation for c in office.conductor.router.snapshot().conversations] \
            == [conversation]
        assert office.rooms == []
    finally:
        await store.close()

    # The attacker: sqlite3 and the source code, no passphrase.
    db = sqlite3.connect(tmp_path / "counsel.db")
    outbox = [str(k) for (k,) in db.execute("SELECT key FROM outbox")]
    settings = [str(k) for (k,) in db.execute("SELECT key FROM settings")]
    db.close()
    assert str(reply["Message-ID"]) not in {old_reply_id(k) for k in outbox}
    guesses = ["max@web.de", "lena.meier@web.de", YOUTH, "lena@gmx.de"]
    ids = ["<m1@web.de>", "<m2@web.de>", *(old_reply_id(k) for k in outbox)]
    hashes = {legacy_key_for(g, i) for g in guesses for i in ids}
    found = {key for key in settings if key.rpartition(":")[2] in hashes}
    assert found == set(), "the plain database file confirms the youth's address"
    assert any(key.startswith(PREFIX) for key in settings), "the keys are there, keyed"


async def test_a_data_directory_from_before_keeps_its_threads_and_replies_in_flight(
    tmp_path: Path,
) -> None:
    """An older version left unkeyed thread keys and, killed after the mail server took a
    reply but before its outbox entry was done, a reply in flight. At start, every unkeyed
    key is gone; the youth's answers (to the first mail, to an earlier reply, and to the
    reply in flight, whose id only In-Reply-To names) still reach the conversation; the
    reply in flight is not sent again."""
    store = await SqliteStore.open(tmp_path / "counsel.db", AeadSealer())
    try:
        office = await office_on(store, RecordingSender())
        conversation = await lena_writes(office)
        earlier = old_reply_id("mail-reply:$earlier")
        await counsellor_replies(office, conversation, "$inflight", "Bist du noch da?")
        [inflight_key] = [e.key for e in await store.pending_outbox()
                          if isinstance(decode_effect(e.payload), SendMail)]
        inflight = old_reply_id(inflight_key)
        await as_an_older_version_left_it(store, conversation, ids=("<m1@web.de>", earlier),
                                          sent=inflight)

        sender = RecordingSender()
        restarted = await office_on(store, sender)
        await restarted.mail.load()
        assert await store.settings(LEGACY_PREFIX) == []
        await perform_mails(restarted)
        assert sender.sent == [], "the reply in flight went out a second time"
        for message_id, to in [("<a1@web.de>", ("<m1@web.de>",)),
                               ("<a2@web.de>", ("<m1@web.de>", earlier)),
                               ("<a3@web.de>", (inflight,))]:
            await restarted.mail.deliver(answer(message_id, *to))
        assert [c.conversation for c in restarted.conductor.router.snapshot().conversations] \
            == [conversation]
        assert restarted.rooms == []
        # A second start finds nothing left to upgrade and changes nothing.
        keys = await store.settings(PREFIX)
        await (await office_on(store, RecordingSender())).mail.load()
        assert await store.settings(PREFIX) == keys
    finally:
        await store.close()


async def as_an_older_version_left_it(store: Store, conversation: ConversationID, *,
                                      ids: tuple[str, ...], sent: str) -> None:
    """Unkeyed keys for `ids` (the first mail, an earlier reply, which the thread keeps),
    and for `sent`, a reply whose send was recorded but not yet the thread nor the outbox
    entry; a stray key of a conversation long gone; no keyed key."""
    for key, _ in await store.settings(PREFIX):
        await store.move_to_sealed(key, None)
    for message_id in (*ids, sent):
        await store.set_setting(LEGACY_PREFIX + legacy_key_for(YOUTH, message_id),
                                conversation)
    await store.set_setting(LEGACY_PREFIX + "0" * 64, "gone")
    thread = json.loads(await store.get_sealed_setting(thread_key(conversation)) or b"{}")
    thread["refs"] = [*thread["refs"], thread["id"]]
    thread["id"] = ids[-1]
    await store.set_sealed_setting(thread_key(conversation), json.dumps(thread).encode())


async def test_an_answer_of_a_youth_whose_reply_to_differs_from_from_continues_the_case() -> None:
    """A youth's mail program sends From one address with Reply-To another (an alias, a
    forward, a school account sending for a private one); the counsellor's reply goes to
    the Reply-To. Their answer, from the same program, names the reply in In-Reply-To only
    (as some programs do): its key was kept under the address the reply went to, the
    answer was looked up under its From, and it opened a second case in a new room."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    first = replace(FIRST, from_address="lena@schule.example", reply_address=YOUTH)
    await office.mail.deliver(first)
    [conversation] = [c.conversation for c in office.conductor.router.snapshot().conversations]
    await counsellor_replies(office, conversation, "$reply", "Hallo Lena.")
    await perform_mails(office)
    reply = sender.sent[-1]
    assert reply["To"] == YOUTH
    await office.mail.deliver(replace(first, message_id="<m2@schule.example>",
                                      in_reply_to=str(reply["Message-ID"]), references=(),
                                      text="Danke für die Antwort."))
    assert [c.conversation for c in office.conductor.router.snapshot().conversations] \
        == [conversation]
    assert len(office.rooms) == 1, "the answer opened a second case"


async def test_a_second_senders_mail_with_a_message_id_seen_before_is_read() -> None:
    """A mail was known again by its Message-ID alone: a second sender's mail with an id
    seen before (a contact form or phone app that numbers its mails per installation, a
    sender who knows another's id) was taken for an SMTP retry and dropped with a 250,
    crisis words and all."""
    office = await office_on(MemoryStore(AeadSealer()), RecordingSender())
    await office.mail.deliver(replace(FIRST, message_id="<1@form.example>"))
    await office.mail.deliver(replace(FIRST, message_id="<1@form.example>",
                                      from_address="kim@youth.example",
                                      reply_address="kim@youth.example",
                                      text="Ich will mich umbringen."))
    conversations = office.conductor.router.snapshot().conversations
    assert len(conversations) == 2, "the second sender's mail was dropped"
    assert conversations[1].crisis.value != "none"


async def test_the_database_file_alone_does_not_confirm_a_mail_from_the_sent_folder(
    tmp_path: Path,
) -> None:
    """Whoever has the youth's sent folder (a parent on the family computer) and a copy of
    counsel.db (a backup) but not the vault could confirm that the youth wrote to the
    office: a mail was marked handled by an unkeyed SHA-256 of its Message-ID, kept in the
    clear among the processed events."""
    store = await SqliteStore.open(tmp_path / "counsel.db", AeadSealer())
    try:
        office = await office_on(store, RecordingSender())
        await office.mail.deliver(FIRST)
    finally:
        await store.close()
    unkeyed = hashlib.sha256(FIRST.message_id.encode()).hexdigest()[:32].encode()
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("counsel"))
    assert unkeyed not in files
