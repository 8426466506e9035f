"""`counsel retention` by hand erases what the bot's own retention erases, but it has no
login of the bot's to take back what the bot said about a conversation outside its room (a
youth's report reason in the staff room, say: `said_elsewhere.py`). The notes of those
messages went with the conversation's erasure, so no bot could ever take them back: the
youth's words stayed in the staff room for good. They are kept, named by no conversation,
for the bot, which takes them back at its next start."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import RoomRedactResponse

from counsel_bot import cli
from counsel_bot.channels.matrix import said_elsewhere
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import Router
from counsel_bot.runtime import runner
from counsel_bot.runtime.runner import open_vault
from counsel_bot.runtime.service import resolve_settings
from counsel_bot.runtime.stores import open_store
from homeserver_bridge.paths import DataLayout
from tests.retention.conftest import FakeAdmin, closed_conversation

CID = ConversationID("C-0000SA1D")
ROOM, STAFF = RoomID("!youth-room:x"), RoomID("!staff-room:x")
YOUTH = UserID("@reporting-youth:x")
NOTICE = "$the-report-notice"


class Redacting:
    """The bot's client, as far as taking a message back goes."""

    def __init__(self) -> None:
        self.redacted: list[tuple[str, str]] = []

    async def room_redact(self, room_id: str, event_id: str, *_: Any, **__: Any) -> Any:
        self.redacted.append((room_id, event_id))
        return RoomRedactResponse("$redaction", room_id)


def test_retention_by_hand_leaves_the_staff_room_messages_for_the_bot_to_take_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    vault = open_vault(settings, layout, config_dir)
    closed = datetime.now(UTC) - timedelta(days=400)

    async def reported_and_closed() -> None:
        store = await open_store(settings.store, layout.bot_dir, config_dir, vault)
        try:
            await closed_conversation(store, Router(), CID, ROOM, YOUTH,
                                      closed - timedelta(hours=1), closed)
            await said_elsewhere.remember(store, CID, STAFF, NOTICE)
        finally:
            await store.close()

    asyncio.run(reported_and_closed())
    admin = FakeAdmin(rooms={ROOM})
    monkeypatch.setattr(runner, "bridge_admin", lambda *_args: admin)
    assert cli.main(["retention", "--data", str(data)]) == 0
    assert admin.rooms == set()

    async def bot_starts() -> list[tuple[str, str]]:
        store = await open_store(settings.store, layout.bot_dir, config_dir, vault)
        try:
            assert await store.conversation(CID) is None
            kept = [key for key, _ in await store.sealed_settings(said_elsewhere.PREFIX)]
            assert any(NOTICE in key for key in kept), \
                "the youth's words in the staff room can no longer be taken back"
            client = Redacting()
            await said_elsewhere.take_back_left(client, store)  # type: ignore[arg-type]
            again = Redacting()
            await said_elsewhere.take_back_left(again, store)  # type: ignore[arg-type]
            assert again.redacted == [], "taken back once, its note goes"
            return client.redacted
        finally:
            await store.close()

    assert asyncio.run(bot_starts()) == [(STAFF, NOTICE)]
