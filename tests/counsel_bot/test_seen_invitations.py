"""A notice into a staff room made just now waits until the bot's client has seen the staff
it invited there (the room key would go to nobody else), but never for ever: one who
declined at once is never seen. nio's room as the client keeps it, no server."""

from __future__ import annotations

from types import SimpleNamespace

from nio import MatrixRoom

from counsel_bot.channels.matrix.membership import INVITATIONS_SEEN_WITHIN, SeenInvitations
from counsel_bot.core.ids import RoomID, UserID

BOT, LEAD, COUNSELLOR = "@bot:x", UserID("@lead:x"), UserID("@counsellor:x")
ROOM = RoomID("!staff:x")


def test_a_notice_waits_for_each_invited_to_be_seen_and_no_longer() -> None:
    now = [0.0]
    client = SimpleNamespace(rooms={}, user_id=BOT)
    seen = SeenInvitations(client, clock=lambda: now[0])  # type: ignore[arg-type]
    assert not seen.unseen(ROOM)  # a room the bot did not just make: nothing to wait for
    seen.invited(ROOM, [LEAD, COUNSELLOR])
    assert seen.unseen(ROOM)  # not synced yet
    room = MatrixRoom(ROOM, BOT)
    room.add_member(BOT, None, None)
    client.rooms[ROOM] = room
    assert seen.unseen(ROOM)  # synced, but not its invitations
    room.add_member(LEAD, None, None, invited=True)
    assert seen.unseen(ROOM)
    room.add_member(COUNSELLOR, None, None, invited=True)
    assert not seen.unseen(ROOM)
    room.remove_member(COUNSELLOR)  # declined later: the key went to them, nothing to wait
    assert not seen.unseen(ROOM)

    seen.invited(ROOM, [UserID("@declined-at-once:x")])
    now[0] += INVITATIONS_SEEN_WITHIN - 1
    assert seen.unseen(ROOM)
    now[0] += 2
    assert not seen.unseen(ROOM)
    assert not seen.unseen(ROOM)
