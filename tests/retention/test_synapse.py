"""Retention against the real homeserver: an expired conversation's room is purged from
Synapse and its records from the SQLite store; a younger one stays; a dry run touches nothing."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio

from counsel_bot.conversation.retention import RoomPurger, run_retention
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import Router
from counsel_bot.store import SqliteStore
from tests.conftest import SynapseHandle, UserFactory
from tests.retention.conftest import closed_conversation
from tests.store.conftest import AeadSealer
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "counsel.db", AeadSealer())
    yield opened
    await opened.close()


async def room_with_messages(client: MatrixHttp, count: int = 3) -> RoomID:
    status, created = await client.create_room(preset="private_chat")
    assert status == 200
    room_id = RoomID(created["room_id"])
    for n in range(count):
        status, _ = await client.call(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/"
            f"t{n}-{secrets.token_hex(4)}",
            {"msgtype": "m.text", "body": f"retention test message {n}"},
        )
        assert status == 200
    return room_id


async def test_expired_room_is_purged_and_erased_younger_stays(
    synapse: SynapseHandle, user_factory: UserFactory, store: SqliteStore
) -> None:
    youth = await user_factory("youth")
    client = MatrixHttp(synapse.http, synapse.base_url, youth.access_token)
    old_room, young_room = await room_with_messages(client), await room_with_messages(client)
    old, young = ConversationID("C-0LD00001"), ConversationID("C-Y0UNG001")
    router = Router()
    old_closed, young_closed = NOW - timedelta(days=31), NOW - timedelta(days=29)
    await closed_conversation(store, router, old, old_room, UserID(youth.user_id),
                              old_closed - timedelta(hours=1), old_closed)
    await closed_conversation(store, router, young, young_room, UserID(youth.user_id),
                              young_closed - timedelta(hours=1), young_closed)
    admin: RoomPurger = synapse.admin  # the real client satisfies the protocol

    dry = await run_retention(store, admin, NOW, KEEP, dry_run=True)
    assert dry.planned == (old,)
    assert dry.deleted == ()
    assert await synapse.admin.room_exists(old_room)
    assert await store.conversation(old) is not None

    report = await run_retention(store, admin, NOW, KEEP, dry_run=False)
    assert report.deleted == (old,)
    assert report.failed == ()
    assert not await synapse.admin.room_exists(old_room)
    assert await store.conversation(old) is None
    # The youth's own client cannot read the purged history either.
    status, _ = await client.call(
        "GET", f"/_matrix/client/v3/rooms/{quote(old_room)}/messages?dir=b&limit=10"
    )
    assert status in (403, 404)

    assert await synapse.admin.room_exists(young_room)
    kept = await store.conversation(young)
    assert kept is not None
    assert kept.room_id == young_room
    status, messages = await client.call(
        "GET", f"/_matrix/client/v3/rooms/{quote(young_room)}/messages?dir=b&limit=10"
    )
    assert status == 200
    assert any(e.get("type") == "m.room.message" for e in messages["chunk"])


async def test_a_run_after_a_crash_between_purge_and_erase_finishes_the_job(
    synapse: SynapseHandle, user_factory: UserFactory, store: SqliteStore
) -> None:
    youth = await user_factory("youth")
    client = MatrixHttp(synapse.http, synapse.base_url, youth.access_token)
    room_id = await room_with_messages(client, count=1)
    cid = ConversationID("C-CRASH001")
    closed = NOW - timedelta(days=45)
    await closed_conversation(store, Router(), cid, room_id, UserID(youth.user_id),
                              closed, closed)
    # The purge happened, then the process died before the store was erased.
    await synapse.admin.delete_room_and_wait(room_id)
    assert not await synapse.admin.room_exists(room_id)

    report = await run_retention(store, synapse.admin, NOW, KEEP, dry_run=False)
    assert report.deleted == (cid,)
    assert await store.conversation(cid) is None
