"""`counsel retention` by hand (and its dry run) purges what the bot's own schedule purges:
also a youth's room where no conversation opened, idle for the retention period
(`idle_rooms`). Without it the dry run an admin reads before deleting said nothing of them,
and a run by hand left them. With no bot running, what still needs a room is read from the
store: the room of a waiting forum post, a group's or forum's own room."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot import cli
from counsel_bot.conversation.forum import PENDING_KEY, post_key
from counsel_bot.conversation.idle_rooms import last_seen, note_seen
from counsel_bot.core.ids import RoomID
from tests.retention.conftest import DataDir, homeserver_for_retention

IDLE, POSTED, FORUM = RoomID("!idle-home:x"), RoomID("!posted-home:x"), RoomID("!forum:x")


def test_retention_by_hand_purges_an_idle_room_without_a_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    data = DataDir(tmp_path / "data")
    long_ago = datetime.now(UTC) - timedelta(days=400)

    async def noted() -> None:
        async with data.store() as store:
            for room in (IDLE, POSTED, FORUM):
                await note_seen(store, room, long_ago)
                await store.set_setting(f"greeted:{room}", "1")
            await store.set_setting("forum_room:schule", FORUM)
            await store.set_setting(PENDING_KEY, "P-0000AAAA")
            await store.set_sealed_setting(post_key("P-0000AAAA"), json.dumps(
                {"forum": "schule", "youth": "@y:x", "room": POSTED, "nick": "Eule",
                 "text": "...", "event": "$e"}).encode())

    async def left() -> list[RoomID]:
        async with data.store() as store:
            return [room for room in (IDLE, POSTED, FORUM)
                    if await last_seen(store, room) is not None]

    asyncio.run(noted())
    admin = homeserver_for_retention(monkeypatch, {IDLE, POSTED, FORUM})
    assert cli.main(["retention", "--dry-run", "--data", str(data.root)]) == 0
    out = capsys.readouterr().out
    assert "1 room(s) without a conversation" in out
    assert "would be purged" in out
    assert str(IDLE) not in out
    assert admin.calls == []
    assert cli.main(["retention", "--data", str(data.root)]) == 0
    assert "1 of 1 room(s) without a conversation" in capsys.readouterr().out
    assert admin.rooms == {POSTED, FORUM}
    assert asyncio.run(left()) == [POSTED, FORUM]
