"""A youth who only signed up for a group or posted in the forum, from a room where no
conversation ever opened, asks to have it all deleted: "löschen", then "ja löschen". The
"löschen" was read as a first message (never a command): a chat opened for a counsellor,
and the "ja löschen" was answered with "write löschen first", so the youth had to ask again
inside a chat they never wanted. The conductor with the memory store, no server."""

from __future__ import annotations

from counsel_bot.core.effects import EraseConversation, SayToYouth
from counsel_bot.core.ids import RoomID, UserID
from tests.groups.test_group_desk import Parts


def _said(effects: list[object], key: str) -> bool:
    return any(isinstance(e, SayToYouth) and e.key == key for e in effects)


async def test_loeschen_in_a_room_without_a_conversation_asks_to_confirm_and_deletes() -> None:
    p = Parts()
    await p.start()
    p.c.can_delete = lambda: True  # admin access, as `counsel up` gives it
    await p.staff(UserID("@anna:x"), '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
    await p.youth(1, "gruppe 1")
    assert await p.store.conversation_by_room(RoomID("!home1:x")) is None
    assert any(seat.youth == UserID("@y1:x") for group in p.desk.book.groups
               for seat in group.seats)
    await p.new()
    await p.youth(1, "löschen")
    asked = await p.new()
    assert _said(asked, "delete.confirm"), "löschen was not taken as the command"
    await p.youth(1, "ja löschen")
    done = await p.new()
    assert not _said(done, "delete.ask_first")
    assert _said(done, "delete.now")
    assert any(isinstance(e, EraseConversation) for e in done)
    # The seat goes with the deletion (the book forgets the youth's account).
    assert all(seat.youth != UserID("@y1:x")
               for group in p.desk.book.groups for seat in group.seats)
