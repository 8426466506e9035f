"""A youth who writes while the chat is open but nobody is on duty (a gap between shifts,
a counsellor off sick): out of hours they are told where help is meanwhile, but here they
read only the greeting and "number 1 in the queue; nobody is on duty right now", with no
end to the wait in sight and no number to call (the youth-side review). Now they get the
numbers too (their office's), once; with someone on duty, the wait has an estimate and
nothing more is said. A memory store, the real detector."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.messages import text
from tests.counsel_bot.test_crisis_paths import (
    ANNA,
    T0,
    conversation_of,
    office,
    pending,
    staff,
    youth,
)
from tests.offices.test_office_deletion_numbers import LOCAL, SETTINGS


async def _numbers_told(c: Conductor) -> list[str]:
    return [text(e.key, "de", **dict(e.params)) for e in await pending(c)
            if isinstance(e, SayToYouth) and "emergency" in dict(e.params)]


async def test_nobody_on_duty_in_opening_hours_the_youth_gets_the_numbers() -> None:
    c = await office()
    assert c.policy.hours.is_open(T0)
    await youth(c, "hallo, ich weiß nicht mehr weiter", T0)
    told = await _numbers_told(c)
    assert len(told) == 1, "the youth waits with nobody there and no number to call"
    assert "116 111" in told[0]


async def test_with_someone_on_duty_nothing_more_is_said() -> None:
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo, ich weiß nicht mehr weiter", T0)
    assert await _numbers_told(c) == []


async def test_the_numbers_are_those_of_the_youths_office() -> None:
    c = await office(SETTINGS)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    told = await _numbers_told(c)
    assert len(told) == 1
    assert LOCAL in told[0]


async def test_crisis_words_get_the_safety_text_alone() -> None:
    """The safety text names the numbers and thanks the youth for telling: the notice would
    only repeat them, first."""
    c = await office()
    await youth(c, "ich will mich umbringen", T0)
    told = [e.key for e in await pending(c)
            if isinstance(e, SayToYouth) and "emergency" in dict(e.params)]
    assert told == ["safety_info"]


async def test_a_youth_asked_for_their_office_gets_its_numbers_with_nobody_on_duty() -> None:
    """With several offices a first message naming none is answered with the question
    which; the place in the queue (and "nobody is on duty") comes with the answer, after
    the welcome: there, too, the youth learns where help is meanwhile, their office's."""
    c = await office(SETTINGS)
    assert c.policy.hours.is_open(T0)
    await youth(c, "hallo, ich weiß nicht mehr weiter", T0)
    await youth(c, "89073", T0 + timedelta(minutes=1))
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.office == "familie"
    told = await _numbers_told(c)
    assert len(told) == 1, "the youth waits with nobody there and no number to call"
    assert LOCAL in told[0]
