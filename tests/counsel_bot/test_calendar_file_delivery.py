"""The calendar file of a confirmed appointment reaches the youth where they read: the
executor with a recording client instead of a homeserver, the conductor with a memory store."""

from __future__ import annotations

from nio import MatrixRoom, UploadResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.effects import SayToYouth, SendCalendar, decode_effect
from counsel_bot.core.ids import EventID
from tests.counsel_bot.test_appointments_flow import ANNA, NOW, ROOM, YOUTH, office


class _RecordingClient:
    """Just enough of nio's AsyncClient for the executor's sends and uploads."""

    should_query_keys = False
    user_id = "@bot:x"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object]]] = []
        self.uploads = 0
        # Both rooms encrypted, as the embedded homeserver makes every room.
        self.rooms = {room: MatrixRoom(room, "@bot:x", encrypted=True)
                      for room in ("!first:x", str(ROOM))}

    async def room_send(self, room_id: str, _type: str, content: dict[str, object],
                        tx_id: str = "", ignore_unverified_devices: bool = False) -> object:
        self.sent.append((room_id, content))
        return object()

    async def upload(self, *_args: object, **_kwargs: object) -> tuple[object, dict[str, str]]:
        self.uploads += 1
        return UploadResponse("mxc://x/file"), {"key": "k", "iv": "i"}


async def test_a_youth_still_in_the_room_they_were_moved_from_gets_the_calendar_file_there(
) -> None:
    """Everything said to a youth who has not come over to the bot's new room yet goes to
    the first room too (room_moves.py, `Executor._to_youth`): the youth reads there "Hier
    ist er als Kalenderdatei", and the file is there too (and in the new room, uploaded
    once). Before, the file went to the new room only, which the youth had not joined."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    client = _RecordingClient()

    async def no_staff_room() -> None:
        return None

    executor = Executor(client, c.store, clock, default_language="de",  # type: ignore[arg-type]
                        staff_room=no_staff_room)
    first = "!first:x"

    async def waiting_in(room: object) -> object:
        return first

    executor.waiting_in = waiting_in  # type: ignore[assignment]
    for entry in await c.store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, SendCalendar) or (isinstance(effect, SayToYouth)
                                                and effect.key == "appointments.confirmed"):
            await executor.perform(effect, entry.key)
    in_first = [content.get("msgtype") for room, content in client.sent if room == first]
    assert "m.notice" in in_first  # the confirmation, "here is the calendar file"
    assert "m.file" in in_first
    in_new = [content.get("msgtype") for room, content in client.sent if room == ROOM]
    assert in_new.count("m.file") == 1
    assert client.uploads == 1
