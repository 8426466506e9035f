"""A youth handed to a colleague is not told they are back in the queue.

"!transfer C-… @ben:x" hands the conversation straight to Ben (the router's `Unassign`
with reason "transferred", then an `Assign`), but the youth read "Deine Beraterin oder dein
Berater musste das Gespräch abgeben. Du bist wieder ganz vorne in der Warteschlange;
jemand anderes kommt, sobald jemand frei ist" – a wait that was not there, and at night a
youth in distress may leave rather than wait. A move to another office is told as such
(`office.transferred_youth`). A hand-back to the queue keeps its text. The executor with a
recording client, the conductor with a memory store.
"""

from __future__ import annotations

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.effects import decode_effect
from counsel_bot.core.ids import EventID, UserID
from counsel_bot.core.routing import Unassign
from counsel_bot.core.routing.actions import Assign
from tests.counsel_bot.test_appointments_flow import ANNA, NOW, ROOM, STAFF_ROOM, office
from tests.counsel_bot.test_calendar_file_delivery import _RecordingClient

BEN = UserID("@ben:x")


class _KickingClient(_RecordingClient):
    async def room_kick(self, *_args: object, **_kwargs: object) -> object:
        return object()


async def _told_youth(command: str) -> tuple[list[str], list[object]]:
    c, conversation, clock = await office()
    c.policy.staff[BEN] = c.policy.staff[ANNA]
    await c.sync_roster(NOW)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$ben"), "!duty on", NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$t"), command.format(conversation), NOW)
    client = _KickingClient()

    async def no_staff_room() -> None:
        return None

    executor = Executor(client, c.store, clock, default_language="de",
                        staff_room=no_staff_room)
    performed: list[object] = []
    for entry in await c.store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, Unassign):
            await executor.perform(effect, entry.key)
        performed.append(effect)
    said = [str(content.get("body")) for room, content in client.sent if room == ROOM]
    return said, performed


async def test_a_youth_handed_to_a_colleague_is_not_told_of_a_queue() -> None:
    said, performed = await _told_youth("!transfer {} @ben:x")
    assert any(isinstance(e, Assign) and e.counsellor == BEN for e in performed)
    [told] = said
    assert "Warteschlange" not in told
    assert "übergeben" in told


async def test_a_youth_handed_back_to_the_queue_is_told_so() -> None:
    said, _ = await _told_youth("!transfer {} queue")
    [told] = said
    assert "Warteschlange" in told
