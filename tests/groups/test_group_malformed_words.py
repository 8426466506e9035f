"""A youth's message in a group's room that nio cannot take for a message of its kind (a
picture whose app sent it unencrypted into the encrypted room: nio wants its encrypted
`file` and makes a BadEvent of it) still carries its caption, which the whole group reads.
The 1:1 rooms read such messages (`YouthWords.other_message`); a group room dropped them, so crisis
words under such a picture passed unread.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser,
the conductor with its group desk on a memory store (test_group_edits.py)."""

from __future__ import annotations

from nio import BadEvent

from counsel_bot.core.effects import SayToStaff
from tests.groups.test_group_desk import GROUP_ROOM
from tests.groups.test_group_edits import _group_bot, _message


async def test_crisis_words_under_a_picture_nio_cannot_parse_in_a_group_are_checked() -> None:
    bot, p = await _group_bot()
    picture = _message(1, {"msgtype": "m.image", "body": "ich will nicht mehr leben",
                           "url": "mxc://x/pic", "info": {"mimetype": "image/png"}})
    assert isinstance(picture, BadEvent)
    await bot._on_room_event_once(GROUP_ROOM, picture)
    alerts = [e for e in await p.new()
              if isinstance(e, SayToStaff) and e.key == "group.staff_crisis_alert"]
    assert len(alerts) == 1, "crisis words under a picture in a group passed unread"
