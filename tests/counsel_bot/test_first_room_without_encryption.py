"""What is said to a youth who has not come over to the bot's new room goes to the first room
too (room_moves.py, `Executor._to_youth`). A first room without encryption (an app that makes
such rooms, on a homeserver other than the embedded one) keeps what is written there in
plain text in the homeserver's database: the video link with its Jitsi token (which lets
anyone into the call and names the youth's nickname in it) and the calendar file's key must
not go there. The youth is told there that something waits in the new room instead.

No server: the executor with a recording client, the conductor with a memory store."""

from __future__ import annotations

from typing import Any

from nio import MatrixRoom, UploadResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.effects import SayToYouth, SendCalendar, decode_effect
from counsel_bot.core.ids import EventID
from tests.counsel_bot.test_appointments_flow import ANNA, NOW, ROOM, YOUTH, office

FIRST = "!first:x"


class _RecordingClient:
    """Just enough of nio's AsyncClient: the first room has no encryption, the new one has."""

    should_query_keys = False
    user_id = "@bot:x"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.rooms = {FIRST: MatrixRoom(FIRST, self.user_id, encrypted=False),
                      str(ROOM): MatrixRoom(str(ROOM), self.user_id, encrypted=True)}

    async def room_send(self, room_id: str, _type: str, content: dict[str, Any],
                        tx_id: str = "", ignore_unverified_devices: bool = False) -> object:
        self.sent.append((room_id, content))
        return object()

    async def upload(self, *_args: object, **_kwargs: object) -> tuple[object, dict[str, str]]:
        return UploadResponse("mxc://x/file"), {"key": "k", "iv": "i"}


async def _executor(c: Any, clock: Any, client: _RecordingClient) -> Executor:
    async def no_staff_room() -> None:
        return None

    async def waiting_in(_room: object) -> object:
        return FIRST

    executor = Executor(client, c.store, clock, default_language="de",  # type: ignore[arg-type]
                        staff_room=no_staff_room)
    executor.waiting_in = waiting_in  # type: ignore[assignment]
    return executor


async def test_a_video_link_goes_to_the_new_room_only_when_the_first_has_no_encryption(
) -> None:
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "!video", NOW)
    client = _RecordingClient()
    executor = await _executor(c, clock, client)
    links = [(o.key, e) for o in await c.store.pending_outbox()
             if isinstance(e := decode_effect(o.payload), SayToYouth) and e.key == "video.link"]
    assert links, "the youth's video link"
    for key, effect in links:
        await executor.perform(effect, key)
    url = dict(links[0][1].params)["url"]
    assert [c for room, c in client.sent if room == str(ROOM) and url in c["body"]]
    in_first = [c["body"] for room, c in client.sent if room == FIRST]
    assert in_first, "the youth in the first room is told where to go on"
    assert not [b for b in in_first if url in b], "the link in a room without encryption"


async def test_a_calendar_file_goes_to_the_new_room_only_when_the_first_has_no_encryption(
) -> None:
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    client = _RecordingClient()
    executor = await _executor(c, clock, client)
    for entry in await c.store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, SendCalendar):
            await executor.perform(effect, entry.key)
    files = [(room, c) for room, c in client.sent if c.get("msgtype") == "m.file"]
    assert [room for room, _ in files] == [str(ROOM)], "the file's key in plain text"


class _SharedFirstRoomClient(_RecordingClient):
    """The first room is encrypted, but the youth let someone else in: a room the bot could
    not moderate (why the youth was moved), so it cannot take that person out either."""

    def __init__(self) -> None:
        super().__init__()
        first = MatrixRoom(FIRST, self.user_id, encrypted=True)
        for user in (self.user_id, str(YOUTH), "@classmate:x"):
            first.add_member(user, None, None)
        self.rooms[FIRST] = first


async def test_a_video_link_and_calendar_file_stay_out_of_a_first_room_someone_else_reads(
) -> None:
    """Encryption keeps the homeserver out, not the other members: a classmate (or a parent
    reading along) in the room the youth was moved from would get the youth's call link with
    its token, and the file saying when and where the youth meets the counsellor."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "!video", NOW)
    client = _SharedFirstRoomClient()
    executor = await _executor(c, clock, client)
    url = ""
    for entry in await c.store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, SendCalendar) or (isinstance(effect, SayToYouth)
                                                and effect.key == "video.link"):
            await executor.perform(effect, entry.key)
            if isinstance(effect, SayToYouth):
                url = str(dict(effect.params)["url"])
    assert url, "the youth's video link"
    assert [c for room, c in client.sent if room == str(ROOM) and url in c.get("body", "")]
    in_first = [c for room, c in client.sent if room == FIRST]
    assert in_first, "the youth in the first room is told where to go on"
    assert not [c for c in in_first if url in c.get("body", "")], "the link to a third person"
    assert not [c for c in in_first if c.get("msgtype") == "m.file"], "the file to a third person"
