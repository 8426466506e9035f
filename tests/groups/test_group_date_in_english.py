"""A youth who writes in English reads a group's date in English.

"You are in: group 1, "Prüfungsangst", on 10.12.2026 18:00" and the list of groups with
"10.12.2026 18:00" were what an English-speaking youth read: the German day.month.year and
no day of the week. The German texts keep their format. Memory store, fake clock, the real
conductor and desks.
"""

from __future__ import annotations

from counsel_bot.core.group_effects import RoomNotice
from counsel_bot.core.messages import text
from tests.groups.test_group_desk import ANNA, Parts, notices


async def _told(first: str, language: str) -> tuple[str, str]:
    p = Parts()
    await p.start()
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, first)
    await p.new()
    await p.youth(1, "group" if language == "en" else "gruppe")
    [listing] = notices(await p.new(), "group.list_youth")
    await p.youth(1, "group 1" if language == "en" else "gruppe 1")
    [signed] = notices(await p.new(), "group.signed_up")

    def shown(notice: RoomNotice) -> str:
        return text(notice.key, "en" if language == "en" else "de", **dict(notice.params))

    return shown(listing), shown(signed)


async def test_an_english_youth_reads_the_groups_date_in_english() -> None:
    listing, signed = await _told("hello, I have a lot of stress before my exams", "en")
    assert "Thu 10 Dec 2026, 18:00" in listing
    assert "Thu 10 Dec 2026, 18:00" in signed
    assert "10.12.2026" not in listing + signed


async def test_a_german_youth_keeps_the_german_date() -> None:
    listing, signed = await _told("hallo, ich habe stress vor den prüfungen", "de")
    assert "10.12.2026 18:00" in listing
    assert "10.12.2026 18:00" in signed
