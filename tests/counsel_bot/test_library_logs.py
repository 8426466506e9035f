"""What the libraries the bot runs on log, under the bot's own logging set-up, never holds a
youth's words. matrix-nio checks every event against its schema (decrypted ones too) and
logs a failure as jsonschema words it: with the failing part of the event, the body
included ("no msgtype" is one of the malformed events `tests/security/test_bad_input.py`
sends, and the bot even keeps such a body as the youth's message)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nio import Event

from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Role, Router, StaffAdded
from counsel_bot.runtime.runner import configure_logging
from counsel_bot.store import NewConversation, SqliteStore, Transition
from tests.store.conftest import AeadSealer

CANARY = "KANARIENVOGEL-niemand-darf-das-lesen-4d2a"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _message(content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "m.room.message", "event_id": "$bad", "sender": "@youth:x",
            "origin_server_ts": 1, "room_id": "!room:x", "content": content}


@pytest.mark.parametrize("content", [
    {"body": f"ich {CANARY}"},  # no msgtype: the whole content is quoted
    {"msgtype": "m.text", "body": [f"ich {CANARY}"]},  # not a string: the value is quoted
], ids=["no msgtype", "list body"])
def test_a_malformed_event_is_logged_without_its_content(
        content: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("INFO")
    with caplog.at_level(logging.DEBUG):  # whatever reaches the handlers
        Event.parse_decrypted_event(_message(content))
        Event.parse_event(_message(content))
    assert CANARY not in caplog.text
    # Still said, without the words: an operator learns that events fail nio's checks.
    assert "validat" in caplog.text


async def test_debug_logging_keeps_the_stores_values_out(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """[logging] level = "DEBUG" is documented as safe ("logs never contain message text or
    youth identifiers"), but aiosqlite logs every statement it runs at debug level with its
    parameters: the room id of each youth's conversation went into the journal."""
    configure_logging("DEBUG")
    store = await SqliteStore.open(tmp_path / "counsel.sqlite3", AeadSealer())
    router = Router()
    router.handle(StaffAdded(T0, UserID("@anna:x"), Role.COUNSELLOR))
    cid = ConversationID("c1")
    router.handle(ConversationOpened(T0, cid))
    new = NewConversation(cid, RoomID(f"!{CANARY}:x"), UserID("@youth:x"), "nick")
    with caplog.at_level(logging.DEBUG):
        try:
            await store.commit_transition(
                Transition(T0, router.snapshot(), new_conversations=(new,)))
        finally:
            await store.close()
    assert CANARY not in caplog.text
