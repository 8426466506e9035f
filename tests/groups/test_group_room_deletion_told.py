"""What a group's youths are told about their room being deleted is what happens to it.

"Die Gruppe endet nach 90 Minuten; danach wird der Raum gelöscht" and, at the end, "Der
Raum wird gleich gelöscht" were said in every installation; without the bot's admin access
the room is never deleted (`GroupRooms._purge` leaves it to the homeserver's retention), so
youths who told each other things trusting that it goes were told something untrue. With
admin access the promise stands. Memory store, fake clock, the real desks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.core.effects import Effect
from counsel_bot.core.group_effects import GroupRoomNotice, PurgeGroupRoom
from counsel_bot.core.messages import text
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts


async def _told(can_delete: bool) -> tuple[list[str], list[Effect]]:
    p = Parts()
    await p.start()
    p.c.can_delete = lambda: can_delete
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 2')
    await p.youth(1, "gruppe 1")
    await p.new()
    p.clock.set(datetime(2026, 12, 10, 17, 0, tzinfo=UTC))  # 18:00 in Berlin: it opens
    await p.c.tick(p.clock.now())
    effects = await p.new()
    p.desk.room_opened(1, GROUP_ROOM)
    await p.in_group(ANNA, "!end")
    effects += await p.new()
    p.clock.advance(timedelta(minutes=1))
    await p.c.tick(p.clock.now())
    effects += await p.new()
    shown = [text(e.key, lang, **dict(e.params)) for e in effects
             if isinstance(e, GroupRoomNotice) for lang in ("de", "en")]
    return shown, effects


@pytest.mark.parametrize("can_delete", [True, False])
async def test_the_room_is_said_to_be_deleted_only_where_it_is(can_delete: bool) -> None:
    shown, effects = await _told(can_delete)
    welcome_de, welcome_en, bye_de, bye_en = shown
    purged = PurgeGroupRoom(1) in effects
    assert ("gelöscht" in welcome_de) is can_delete
    assert ("deleted" in welcome_en) is can_delete
    assert ("gelöscht" in bye_de) is can_delete
    assert ("deleted" in bye_en) is can_delete
    if can_delete:
        assert purged

