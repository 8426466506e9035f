"""A youth's message the bot cannot decrypt yet (its key comes later, or never) is normal
traffic: it waits for its key (core/undecryptable.py). matrix-nio logs each one at WARNING,
which the bot's logging lets through, with the room's id and the youth's account: "Error
decrypting megolm event, no session found ... for room !…", "Received a undecryptable
Megolm event from a unknown device: @youth…". The journal then linked accounts to rooms.
nio's own sync handling under the bot's logging set-up, no server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from nio import AsyncClient, AsyncClientConfig, SyncResponse

from counsel_bot.runtime.runner import configure_logging

CANARY = "KANARIENVOGEL-5c1e"
ROOM, YOUTH = f"!{CANARY}-room:x", f"@{CANARY}-youth:x"


def sync_with_an_undecryptable_message() -> SyncResponse:
    event = {"type": "m.room.encrypted", "event_id": "$e", "sender": YOUTH,
             "origin_server_ts": 1,
             "content": {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "A" * 43,
                         "ciphertext": "AwgA", "session_id": "B" * 43, "device_id": "PHONE"}}
    room = {"timeline": {"events": [event], "limited": False, "prev_batch": "p"},
            "state": {"events": []}, "ephemeral": {"events": []},
            "account_data": {"events": []}}
    answer = SyncResponse.from_dict({
        "next_batch": "s1", "rooms": {"join": {ROOM: room}, "invite": {}, "leave": {}},
        "to_device": {"events": []}, "presence": {"events": []},
        "account_data": {"events": []}, "device_one_time_keys_count": {},
        "device_lists": {"changed": [], "left": []}})
    assert isinstance(answer, SyncResponse)
    return answer


async def test_a_message_without_its_key_is_logged_without_room_or_account(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("INFO")
    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT",
                         store_path=str(tmp_path),
                         config=AsyncClientConfig(encryption_enabled=True, pickle_key="test"))
    client.restore_login("@counsel:x", "BOT", "token")  # loads its Olm account
    try:
        with caplog.at_level(logging.DEBUG):  # whatever reaches the handlers
            await client.receive_response(sync_with_an_undecryptable_message())
    finally:
        await client.close()
    # Still said, without the ids: an operator learns that messages wait for their keys.
    assert "Error decrypting megolm event" in caplog.text
    assert CANARY not in caplog.text
