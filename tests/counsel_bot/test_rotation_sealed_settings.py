"""`counsel vault rotate` keeps every sealed value readable, not only the store's sealed columns:
the address and reply thread of a chat youth who switched to mail, the group book and the
forum's waiting posts. Real SQLite and PostgreSQL stores, a real vault, the real rotation.

These values were once vault-sealed blobs in the plain ``settings`` table, which the rotation
did not reseal: after it retired the old data key, the youth's address and thread (and the
groups and waiting posts) could no longer be opened. Data directories from then are upgraded:
the rotation and the bot's start move such rows into ``sealed_settings`` and delete them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.channels.mail.mail_keys import LEGACY_ADDRESS_CONTEXT, LEGACY_THREAD_CONTEXT
from counsel_bot.config import Settings, StaffSettings, StoreSettings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.forum import ForumDesk, ForumTopic
from counsel_bot.conversation.group_keys import BOOK_KEY, LEGACY_BOOK_CONTEXT
from counsel_bot.conversation.groups import GroupDesk
from counsel_bot.core import groups as g
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.group_book_codec import encode_book
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.runtime.legacy_settings import move_legacy_sealed_settings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.runtime.stores import DATABASE_FILE, open_store
from counsel_bot.runtime.vault_rotation import rotate
from counsel_bot.store import PostgresStore, SqliteStore
from e2e.errors import VaultError
from e2e.vault import KdfParams, Vault
from homeserver_bridge.mail import MailSettings
from tests.conftest import SynapseHandle
from tests.support.bot_harness import PASSPHRASE as BOT_PASSPHRASE
from tests.support.bot_harness import provision_bot

AT = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
ANNA, LEAD = UserID("@anna:x"), UserID("@lead:x")
YOUTH = UserID("@youth:x")
ADDRESS = "jugend.switch@example.org"
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class Site:
    """A bot's data directory, its vault and the store settings `counsel vault rotate` reads."""

    bot_dir: Path
    vault: Vault
    settings: StoreSettings

    async def store(self) -> SqliteStore | PostgresStore:
        return await open_store(self.settings, self.bot_dir, self.bot_dir, self.vault)

    async def rotate(self) -> None:
        report = await rotate(self.bot_dir, self.vault, None, self.settings, self.bot_dir)
        assert report.retired_key_ids
        # What the bot opens next: the vault file as rotated, with the new key alone.
        self.vault = Vault.open(self.bot_dir / "vault.json", PASSPHRASE)
        assert len(self.vault.key_ids) == 1


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Site]:
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    vault = Vault.create(bot_dir / "vault.json", PASSPHRASE, CHEAP)
    settings = StoreSettings()
    if request.param == "postgres":
        settings = StoreSettings(url=request.getfixturevalue("postgres").new_database())
    yield Site(bot_dir, vault, settings)


class Outgoing:
    """The SMTP relay's place: what the channel hands over to be sent."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage, *, envelope_sender: str | None = None) -> None:
        self.sent.append(message)


async def conductor_on(store: Any) -> Conductor:
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEAD,))))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy, AT)
    await conductor.sync_roster(AT)
    return conductor


def mail_channel(conductor: Conductor, vault: Vault, sender: Outgoing | None = None) -> MailChannel:
    mail = MailChannel(conductor, None, MailSettings(), sender,  # type: ignore[arg-type]
                       lambda: AT, _no_room, None)  # type: ignore[arg-type]
    conductor.mail_switch = mail.switch_to_mail
    return mail


async def _no_room() -> Any:
    raise AssertionError("no room is created here")


async def chat_conversation(conductor: Conductor) -> ConversationID:
    await conductor.youth_wrote(RoomID("!chat:x"), YOUTH, None, EventID("$hello"),
                                "hallo, ich brauche hilfe", AT)
    record = await conductor.store.conversation_by_room(RoomID("!chat:x"))
    assert record is not None
    return record.conversation


async def test_a_switched_youths_address_and_thread_survive_rotation(site: Site) -> None:
    store = await site.store()
    try:
        conductor = await conductor_on(store)
        conversation = await chat_conversation(conductor)
        change = Change(AT, EventID("$switch"))
        await mail_channel(conductor, site.vault).switch_to_mail(change, conversation, ADDRESS)
        await conductor.commit(change)
    finally:
        await store.close()

    await site.rotate()

    store = await site.store()
    try:
        outgoing = Outgoing()
        mail = mail_channel(await conductor_on(store), site.vault, outgoing)
        record = await store.conversation(conversation)
        assert record is not None
        assert await mail.address_of(record) == ADDRESS
        await mail.send_reply(record, "Hallo, hier ist Anna.", "mail-reply:$r1")
        [reply] = outgoing.sent
        assert reply["To"] == ADDRESS
        assert reply["Subject"] == "Re: Deine Online-Beratung"  # the thread the office began
        # The thread went on: the next reply answers the first one.
        await mail.send_reply(record, "Noch etwas.", "mail-reply:$r2")
        assert outgoing.sent[1]["In-Reply-To"] == reply["Message-ID"]
        # Nothing of it in the plain settings; and erasure still takes all of it.
        assert await store.get_setting(f"mailto:{conversation}") is None
        assert await store.get_setting(f"mailreply:{conversation}") is None
        await store.erase_conversation(conversation)
        assert await store.sealed_settings(f"mailto:{conversation}") == []
        assert await store.sealed_settings(f"mailreply:{conversation}") == []
    finally:
        await store.close()


async def group_and_post(conductor: Conductor) -> tuple[GroupDesk, ForumDesk]:
    desk = GroupDesk(conductor, BERLIN, timedelta(minutes=0))
    forum = ForumDesk(conductor, (ForumTopic("schule", "Schule"),))
    await desk.load()
    await forum.load()
    conductor.addons += [desk, forum]
    return desk, forum


async def test_the_group_book_and_waiting_forum_posts_survive_rotation(site: Site) -> None:
    store = await site.store()
    try:
        conductor = await conductor_on(store)
        desk, forum = await group_and_post(conductor)
        await conductor.staff_wrote(RoomID("!staff:x"), ANNA, EventID("$g"),
                                    '!group new "Schlaf" 2026-12-10 18:00 60min max 4', AT)
        await conductor.youth_wrote(RoomID("!home:x"), YOUTH, None, EventID("$in"), "gruppe 1",
                                    AT)
        await conductor.youth_wrote(RoomID("!home2:x"), UserID("@other:x"), None,
                                    EventID("$post"), "forum schule bitte lesen", AT)
        [group] = desk.book.groups
        assert [seat.youth for seat in group.seats] == [YOUTH]
        [post_id] = forum.pending
    finally:
        await store.close()

    await site.rotate()

    store = await site.store()
    try:
        desk, forum = await group_and_post(await conductor_on(store))
        [group] = desk.book.groups
        assert [seat.youth for seat in group.seats] == [YOUTH]
        assert forum.pending == [post_id]
        post = await forum._open(post_id)
        assert post is not None
        assert (post.youth, post.text) == (UserID("@other:x"), "bitte lesen")
    finally:
        await store.close()


async def legacy_rows(site: Site, conversation: ConversationID) -> dict[str, str]:
    """The plain settings as an older counsel wrote them: vault blobs, base64."""
    vault = site.vault

    def sealed(plain: bytes, context: bytes) -> str:
        return base64.b64encode(vault.seal(plain, context=context)).decode()

    thread = json.dumps({"id": "<m1@example.org>", "refs": [], "subject": "Sorgen"}).encode()
    book = g.GroupBook()
    post = json.dumps({"forum": "schule", "youth": "@other:x", "room": "!home2:x",
                       "nick": "Fuchs 12", "text": "alter beitrag"}).encode()
    rows = {
        f"mailto:{conversation}": sealed(ADDRESS.encode(),
                                         LEGACY_ADDRESS_CONTEXT + conversation.encode()),
        f"mailreply:{conversation}": sealed(thread, LEGACY_THREAD_CONTEXT + conversation.encode()),
        BOOK_KEY: sealed(encode_book(book), LEGACY_BOOK_CONTEXT),
        "forum_post:P-0001": sealed(post, b"forum_post:P-0001"),
        "forum_post:P-0002": "",  # a decided post, as older versions left it behind
        "forum:pending": "P-0001",
    }
    store = await site.store()
    try:
        for key, value in rows.items():
            await store.set_setting(key, value)
    finally:
        await store.close()
    return rows


async def assert_moved_and_readable(site: Site, conversation: ConversationID) -> None:
    store = await site.store()
    try:
        for key in (f"mailto:{conversation}", f"mailreply:{conversation}", BOOK_KEY,
                    "forum_post:P-0001", "forum_post:P-0002"):
            assert await store.get_setting(key) is None, key
        assert await store.get_setting("forum:pending") == "P-0001"  # plain, stays
        outgoing = Outgoing()
        conductor = await conductor_on(store)
        mail = mail_channel(conductor, site.vault, outgoing)
        record = await store.conversation(conversation)
        assert record is not None
        assert await mail.address_of(record) == ADDRESS
        await mail.send_reply(record, "Hallo.", "mail-reply:$r1")
        [reply] = outgoing.sent
        assert (reply["To"], reply["In-Reply-To"]) == (ADDRESS, "<m1@example.org>")
        assert reply["Subject"] == "Re: Sorgen"
        _desk, forum = await group_and_post(conductor)
        post = await forum._open("P-0001")
        assert post is not None
        assert post.text == "alter beitrag"
        assert await forum._open("P-0002") is None
    finally:
        await store.close()


async def test_rotation_moves_and_reseals_legacy_rows_from_the_plain_settings(site: Site) -> None:
    store = await site.store()
    try:
        conversation = await chat_conversation(await conductor_on(store))
    finally:
        await store.close()
    await legacy_rows(site, conversation)

    await site.rotate()

    await assert_moved_and_readable(site, conversation)


async def test_the_bot_moves_legacy_rows_when_it_starts(site: Site) -> None:
    store = await site.store()
    try:
        conversation = await chat_conversation(await conductor_on(store))
    finally:
        await store.close()
    await legacy_rows(site, conversation)

    store = await site.store()
    try:
        assert await move_legacy_sealed_settings(store, site.vault) == 5
        assert await move_legacy_sealed_settings(store, site.vault) == 0  # once only
    finally:
        await store.close()
    await assert_moved_and_readable(site, conversation)
    # And moved means the rotation finds them: readable after it too.
    await site.rotate()
    store = await site.store()
    try:
        record = await store.conversation(conversation)
        assert record is not None
        assert await mail_channel(await conductor_on(store), site.vault).address_of(
            record) == ADDRESS
    finally:
        await store.close()


@pytest.mark.integration
async def test_the_real_bot_moves_legacy_rows_before_its_parts_read_them(
    synapse: SynapseHandle, tmp_path: Path
) -> None:
    process = await provision_bot(synapse, tmp_path / "data", staff=[])
    bot_dir = process.layout.bot_dir
    vault = Vault.open_or_create(bot_dir / "vault.json", BOT_PASSPHRASE, CHEAP)
    conversation = ConversationID("C-0000CAFE")
    book = encode_book(g.GroupBook())
    store = await SqliteStore.open(bot_dir / DATABASE_FILE, vault)
    try:
        for key, plain, context in (
                (BOOK_KEY, book, LEGACY_BOOK_CONTEXT),
                (f"mailto:{conversation}", ADDRESS.encode(),
                 LEGACY_ADDRESS_CONTEXT + conversation.encode())):
            blob = vault.seal(plain, context=context)
            await store.set_setting(key, base64.b64encode(blob).decode())
    finally:
        await store.close()

    bot = await process.start()
    try:
        assert await bot.store.get_setting(BOOK_KEY) is None
        assert await bot.store.get_sealed_setting(BOOK_KEY) == book
        assert await bot.store.get_setting(f"mailto:{conversation}") is None
        assert await bot.store.get_sealed_setting(f"mailto:{conversation}") == ADDRESS.encode()
    finally:
        await process.stop()


async def test_rotation_retires_nothing_while_a_plain_setting_holds_a_vault_blob(
    site: Site,
) -> None:
    """A part added later that puts a vault blob into the plain settings again: the
    rotation stops before retiring the key that blob needs."""
    blob = site.vault.seal(b"anna@example.org", context=b"newfeature")
    store = await site.store()
    try:
        await store.set_setting("newfeature:C-00000001", base64.b64encode(blob).decode())
        await store.set_setting("sync_token", "s72594_4483_1934_0_0_0_0_0_0")
        await store.set_setting("forum:pending", "P-00AA11BB")
    finally:
        await store.close()

    with pytest.raises(VaultError, match=r"\['newfeature'\].*nothing was retired"):
        await rotate(site.bot_dir, site.vault, None, site.settings, site.bot_dir)

    kept = Vault.open(site.bot_dir / "vault.json", PASSPHRASE)
    assert len(kept.key_ids) == 2
    assert kept.open_sealed(blob, context=b"newfeature") == b"anna@example.org"
