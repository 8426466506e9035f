"""What the youths in a group's room read of the host's moderation. "@anna: Erledigt (mute:
Eule)." went into the group's room after every `!mute`, `!unmute` and `!remove`: the other
youths read who was silenced or thrown out (a youth in crisis removed, named before the
group), with the action word in English in a German text. A refusal went to the staff room
("the youths need not read refusals"); the confirmation now goes there too, in words.
Memory store, fake clock, no server."""

from __future__ import annotations

from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_effects import KickFromGroup, MuteInGroup
from counsel_bot.core.ids import UserID
from counsel_bot.core.messages import text
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts

Y1, Y2 = UserID("@y1:x"), UserID("@y2:x")


async def _evening() -> tuple[Parts, str]:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.youth(2, "gruppe 1")
    opened = await p.open_group()
    await p.new()
    return p, opened.members[0][1]


async def test_the_group_does_not_read_who_was_muted_or_removed() -> None:
    p, nick = await _evening()
    for command, done in ((f"!mute {nick}", MuteInGroup(1, Y1, True)),
                          (f"!unmute {nick}", MuteInGroup(1, Y1, False)),
                          (f"!remove {nick}", KickFromGroup(1, Y1))):
        await p.in_group(ANNA, command)
        effects = await p.new()
        assert done in effects
        in_group = [e for e in effects if isinstance(e, SayInRoom) and e.room_id == GROUP_ROOM]
        assert not in_group, f"the group read {in_group}"
        [told] = [e for e in effects if isinstance(e, SayToStaff)]
        assert ANNA in told.mentions
        for language in ("de", "en"):
            said = text(told.key, language, **dict(told.params))
            assert nick in said
            if language == "de":
                assert not any(word in said for word in ("mute", "remove")), said


async def test_a_mistyped_command_in_the_group_is_answered_in_the_staff_room() -> None:
    p, _ = await _evening()
    await p.in_group(ANNA, "!mute")
    effects = await p.new()
    assert not [e for e in effects if isinstance(e, SayInRoom) and e.room_id == GROUP_ROOM]
