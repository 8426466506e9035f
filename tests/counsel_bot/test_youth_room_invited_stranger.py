"""Someone the youth invites into their counselling room (a friend, a parent standing by, a
stranger by a typo in the name) is taken out when they join (test_youth_room_stranger). But
an invitation is enough to read along: nio shares the bot's room keys with every member it
knows, the invited ones included (as Element does in a room whose history is shared), so
what the bot writes meanwhile (the transcript of all the youth's words when a counsellor
joins) is readable to the invited person the moment they join, before the bot sees the join
and removes them. The youth-side review found the invitation itself was left standing. Now
it is withdrawn at once, and the youth told why.

No server: the bot on the fake of nio's client of the stranger test, events by nio's
parser."""

from __future__ import annotations

from nio import MatrixRoom, RoomMemberEvent

from counsel_bot.channels.matrix.bot import CounselBot
from tests.counsel_bot.test_youth_room_stranger import ANNA, FRIEND, ROOM, YOUTH, _bot, _text


def _invites(user: str, by: str, n: int) -> RoomMemberEvent:
    event = RoomMemberEvent.from_dict({
        "type": "m.room.member", "state_key": user, "sender": by, "event_id": f"$i{n}",
        "origin_server_ts": 5, "content": {"membership": "invite", "displayname": "Buddy"},
        "unsigned": {"prev_content": {"membership": "leave"}}})
    assert isinstance(event, RoomMemberEvent)
    return event


async def _invited(bot: CounselBot, room: MatrixRoom, user: str, n: int) -> None:
    room.add_member(user, "Buddy", None, invited=True)  # nio applies the sync's state first
    await bot._on_room_event_once(ROOM, _invites(user, YOUTH, n))


async def test_someone_the_youth_invites_is_uninvited_at_once() -> None:
    bot, client, sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo, ich hab stress zuhause"))
    await _invited(bot, client.rooms[ROOM], FRIEND, 2)
    assert client.kicked == [(ROOM, FRIEND)], "the invited person can read what comes next"
    assert any(room == ROOM and "nur für dich" in body for room, body in sent)


async def test_a_counsellor_the_bot_invites_stays_invited() -> None:
    bot, client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo, ich hab stress zuhause"))
    await _invited(bot, client.rooms[ROOM], ANNA, 2)
    assert client.kicked == []
