"""A routing row the bot cannot read (edited by hand, a restore gone wrong, a counsel
version rolled back) stops the start with our error, which the command line prints with its
advice. Before, a ValueError from the row's parsing, or the router's SnapshotError, was
reported as a bug of counsel: a traceback whose message is left out (it may quote a youth),
so the admin learnt neither which row nor what to do. Real SQLite file, no server."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Role, Router, StaffAdded
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import NewConversation, SqliteStore, StoreError, Transition
from tests.store.conftest import AeadSealer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CASE = ConversationID("C-0000CAFE")
ANNA = UserID("@anna:x")


@pytest.mark.parametrize(("table", "column", "value"), [
    ("conversations", "state", "parked"),
    ("conversations", "enqueued_at", "yesterday"),
    ("conversations", "state", "assigned"),  # but nobody in assigned_to
    ("counsellors", "role", "supervisor"),
    ("counsellors", "languages", "de"),
])
async def test_a_damaged_routing_row_stops_the_start_with_a_clear_error(
    tmp_path: Path, table: str, column: str, value: str
) -> None:
    path = tmp_path / "counsel.sqlite3"
    sealer = AeadSealer()
    store = await SqliteStore.open(path, sealer)
    router = Router()
    router.handle(StaffAdded(T0, ANNA, Role.COUNSELLOR))
    router.handle(ConversationOpened(T0, CASE))
    await store.commit_transition(Transition(T0, router.snapshot(), new_conversations=(
        NewConversation(CASE, RoomID("!room:x"), UserID("@youth:x")),)))
    await store.close()
    raw = sqlite3.connect(path)
    raw.execute(f"UPDATE {table} SET {column} = ?", (value,))
    raw.commit()
    raw.close()

    store = await SqliteStore.open(path, sealer)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    try:
        with pytest.raises(StoreError, match="backup"):
            await Conductor.open(store, detector, policy_from(Settings()), T0)
    finally:
        await store.close()
