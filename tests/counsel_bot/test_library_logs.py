"""What the libraries the bot runs on log, under the bot's own logging set-up, never holds a
youth's words. matrix-nio checks every event against its schema (decrypted ones too) and
logs a failure as jsonschema words it: with the failing part of the event, the body
included ("no msgtype" is one of the malformed events `tests/security/test_bad_input.py`
sends, and the bot even keeps such a body as the youth's message)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from nio import Event

from counsel_bot.runtime.runner import configure_logging

CANARY = "KANARIENVOGEL-niemand-darf-das-lesen-4d2a"


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
