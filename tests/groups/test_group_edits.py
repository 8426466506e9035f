"""A youth's edit in a group's room is read as the group's clients show it: the edit's
`m.new_content`, not its `body`, which is only a fallback for clients without edits and may
say anything ("* (bearbeitet)", or the old words). The 1:1 rooms read edits so since the
youth-side review (test_youth_edit_words.py); a group room still took the fallback, so a
message edited into crisis words in front of the other youths passed the crisis check.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser,
the conductor with its group desk on a memory store."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from nio import Event, MatrixRoom

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.effects import SayToStaff
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts

BOT, YOUTH = "@bot:x", "@y1:x"


class FakeClient:
    def __init__(self) -> None:
        self.user_id = BOT
        room = MatrixRoom(GROUP_ROOM, BOT, encrypted=True)
        for user in (BOT, ANNA, YOUTH):
            room.add_member(user, None, None)
        self.rooms: dict[str, MatrixRoom] = {GROUP_ROOM: room}
        self.client_session = None


def _message(n: int, content: dict[str, Any]) -> Event:
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": f"$g{n}",
        "origin_server_ts": n, "room_id": GROUP_ROOM, "content": content})


async def _group_bot() -> tuple[CounselBot, Parts]:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()

    async def perform(_effect: object, _key: str) -> None:
        return None

    executor = SimpleNamespace(perform=perform, admin=None, protected=frozenset())
    bot = CounselBot(FakeClient(), p.c, executor, p.clock,  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    return bot, p


async def test_a_group_message_edited_into_crisis_words_is_checked_whatever_its_fallback(
) -> None:
    bot, p = await _group_bot()
    await bot._on_room_event_once(GROUP_ROOM, _message(1, {"msgtype": "m.text",
                                                           "body": "hallo zusammen"}))
    await bot._on_room_event_once(GROUP_ROOM, _message(2, {
        "msgtype": "m.text", "body": "* (bearbeitet)",
        "m.new_content": {"msgtype": "m.text", "body": "ich will nicht mehr leben"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$g1"}}))
    alerts = [e for e in await p.new()
              if isinstance(e, SayToStaff) and e.key == "group.staff_crisis_alert"]
    assert len(alerts) == 1, "an edit into crisis words in a group passed unread"
