"""A waiting forum post the youth took back (deleted in their app, or rejected by the
moderator because it names someone) is gone on disk too: the SQLite store with the real
conductor and forum desk, a raw look at the database file and its write-ahead log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from counsel_bot.channels.outbox_worker import OutboxWorker
from counsel_bot.conversation.forum import post_key
from counsel_bot.store import SqliteStore
from tests.groups.test_forum_withdrawn import HOME, YOUTH, waiting_post
from tests.groups.test_group_desk import BEN, Parts
from tests.store.conftest import AeadSealer
from tests.support.raw_scan import assert_not_on_disk


def _sealed(path: Path, key: str) -> bytes:
    raw = sqlite3.connect(path)
    try:
        row = raw.execute("SELECT sealed FROM sealed_settings WHERE key = ?", (key,)).fetchone()
    finally:
        raw.close()
    assert row is not None
    return bytes(row[0])


async def _parts(tmp_path: Path) -> tuple[Parts, Path]:
    p = Parts()
    path = tmp_path / "counsel.sqlite3"
    p.store = await SqliteStore.open(path, AeadSealer())  # type: ignore[assignment]
    return p, path


async def test_a_withdrawn_waiting_post_leaves_nothing_on_disk(tmp_path: Path) -> None:
    """"ich bin Lena aus der 8b", deleted a minute later: the row went, but its sealed
    text stayed in the write-ahead log while the bot ran, readable with the vault's key."""
    p, path = await _parts(tmp_path)
    try:
        post_id, posted = await waiting_post(p, "forum schule ich bin Lena aus der 8b")
        sealed = _sealed(path, post_key(post_id))
        assert await p.c.youth_retracted(HOME, YOUTH, p.event(), posted, None, p.clock.now())
        assert await p.store.get_sealed_setting(post_key(post_id)) is None
        assert_not_on_disk(path, [sealed])  # the store still open: its log is on disk
    finally:
        await p.store.close()  # type: ignore[attr-defined]


async def test_a_rejected_waiting_post_leaves_nothing_on_disk(tmp_path: Path) -> None:
    """The moderator rejects a post because it names someone: it is gone on disk too."""
    p, path = await _parts(tmp_path)
    try:
        post_id, _ = await waiting_post(p, "forum schule Frau Meier aus der 8b ist gemein")
        sealed = _sealed(path, post_key(post_id))
        await p.staff(BEN, f"!forum reject {post_id} nennt eine Person")
        assert await p.store.get_sealed_setting(post_key(post_id)) is None
        assert_not_on_disk(path, [sealed])
    finally:
        await p.store.close()  # type: ignore[attr-defined]


async def test_a_sent_listing_of_waiting_posts_leaves_nothing_on_disk(tmp_path: Path) -> None:
    """`!forum pending` lists the waiting posts' words to the staff, in an effect that names
    several youths and no conversation, so no erasure ever finds it. Once sent it keeps no
    payload (`Store.mark_outbox_done`), but the sealed listing stayed in the write-ahead
    log while the bot ran."""
    p, path = await _parts(tmp_path)
    try:
        await waiting_post(p, "forum schule ich bin Lena aus der 8b")
        await p.staff(BEN, "!forum pending")
        [listing] = [e for e in await p.store.pending_outbox()
                     if b"forum.pending" in e.payload]
        raw = sqlite3.connect(path)
        try:
            row = raw.execute("SELECT sealed FROM outbox WHERE key = ?",
                              (listing.key,)).fetchone()
        finally:
            raw.close()
        sealed = bytes(row[0])

        async def perform(effect: object, key: str) -> None:
            return None

        await OutboxWorker(perform, p.store, p.clock).drain()
        assert await p.store.pending_outbox() == []
        assert_not_on_disk(path, [sealed])
    finally:
        await p.store.close()  # type: ignore[attr-defined]


async def test_the_words_an_edit_took_out_of_a_waiting_post_leave_nothing_on_disk(
    tmp_path: Path,
) -> None:
    """The youth edits "ich bin Lena aus der 8b" out of their waiting post: the post is
    kept in its new words, and the old ones must be gone on disk as a withdrawn post is."""
    p, path = await _parts(tmp_path)
    try:
        post_id, posted = await waiting_post(
            p, "forum schule ich bin Lena aus der 8b, Mathe ist zu viel")
        before = _sealed(path, post_key(post_id))
        assert await p.c.youth_retracted(HOME, YOUTH, p.event(), posted,
                                         "forum schule Mathe ist mir gerade zu viel",
                                         p.clock.now())
        assert await p.store.get_sealed_setting(post_key(post_id)) is not None
        assert_not_on_disk(path, [before])
    finally:
        await p.store.close()  # type: ignore[attr-defined]
