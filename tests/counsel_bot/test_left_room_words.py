"""left_room_words: which last events of a room the bot is out of are read, and the
stand-in room nio knows them by (pure: a nio client that never connects)."""

from __future__ import annotations

from pathlib import Path

from nio import AsyncClient, Event, MatrixRoom, MegolmEvent

from counsel_bot.channels.matrix.left_room_words import before_leaving, room_known
from counsel_bot.core.ids import RoomID

ROOM = RoomID("!gone:x")


def _event(source: dict[str, object]) -> Event:
    base = {"event_id": "$e", "sender": "@youth:x", "origin_server_ts": 1, **source}
    event = Event.parse_event(base)
    assert isinstance(event, Event), event
    return event


TEXT = _event({"type": "m.room.message", "content": {"msgtype": "m.text", "body": "hallo"}})
KICK = _event({"type": "m.room.member", "state_key": "@bot:x",
               "content": {"membership": "leave"}})
SEALED = _event({"type": "m.room.encrypted", "content": {
    "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "sender_key": "k",
    "device_id": "D", "session_id": "s"}})


NAMED = _event({"type": "m.room.name", "state_key": "", "content": {"name": "Chat"}})


def test_state_is_left_to_the_leave_and_words_are_kept() -> None:
    # A room's state (members, its name, an upgrade) changes nothing in a room the bot is
    # out of; only what was written there is read.
    client = AsyncClient("http://127.0.0.1:9", "@bot:x")
    assert before_leaving(client, ROOM, [NAMED, TEXT, KICK]) == [TEXT]


def test_a_message_without_its_key_is_kept_to_wait_for_it(tmp_path: Path) -> None:
    assert isinstance(SEALED, MegolmEvent)
    client = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(tmp_path))
    client.restore_login("@bot:x", "BOTDEVICE", "token")  # loads the olm account
    assert before_leaving(client, ROOM, [SEALED]) == [SEALED]


def test_a_stand_in_room_is_known_while_reading_and_only_then() -> None:
    client = AsyncClient("http://127.0.0.1:9", "@bot:x")
    with room_known(client, ROOM, [SEALED, KICK]):
        stand_in = client.rooms[ROOM]
        assert stand_in.encrypted
        assert stand_in.users == {}
    assert ROOM not in client.rooms
    with room_known(client, ROOM, [TEXT]):
        assert not client.rooms[ROOM].encrypted  # a plain room's words are never read


def test_a_room_nio_still_knows_is_read_as_it_is() -> None:
    client = AsyncClient("http://127.0.0.1:9", "@bot:x")
    known = MatrixRoom(ROOM, "@bot:x", encrypted=True)
    client.rooms[ROOM] = known
    with room_known(client, ROOM, [TEXT]):
        assert client.rooms[ROOM] is known
    assert client.rooms[ROOM] is known
