"""`counsel retention` by hand purges what the bot's own retention purges: a youth moved out
of a room the bot could not moderate (an unencrypted one, say) wrote their first words
there. The bot's schedule purges that first room with the conversation's room
(`PurgingFirstRooms`); the link to it (``moved_from:<new room>``) is erased with the
conversation, so a purge that leaves it leaves those words on the homeserver for good."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot import cli
from counsel_bot.channels.matrix.room_moves import MOVED_FROM_PREFIX
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import Router
from tests.retention.conftest import DataDir, closed_conversation, homeserver_for_retention

CID = ConversationID("C-0000F1R5")
FIRST, NEW = RoomID("!first-unencrypted:x"), RoomID("!new-own:x")
YOUTH = UserID("@moved-youth:x")


def test_retention_by_hand_purges_the_room_a_youth_was_moved_out_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    data = DataDir(tmp_path / "data")
    closed = datetime.now(UTC) - timedelta(days=400)

    async def moved_and_closed() -> None:
        async with data.store() as store:
            await closed_conversation(store, Router(), CID, NEW, YOUTH,
                                      closed - timedelta(hours=1), closed)
            await store.set_setting(f"{MOVED_FROM_PREFIX}{NEW}", f"{FIRST}|arrived")

    asyncio.run(moved_and_closed())
    admin = homeserver_for_retention(monkeypatch, {FIRST, NEW})
    assert cli.main(["retention", "--data", str(data.root)]) == 0
    assert "1 of 1 conversation(s)" in capsys.readouterr().out
    assert admin.rooms == set(), "the room the youth was moved out of is still on the server"
