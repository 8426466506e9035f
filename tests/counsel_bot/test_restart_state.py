"""What the conductor keeps over a restart (a deploy, a kill, a failover): the escalation's
waits, the question for a mail address, a reopened conversation's emergency numbers. Each
lived in memory only until an outside review of stops and restarts found it lost.

Memory store, the real rules detector, injected time; a "restart" is a new
`Conductor.open` on the same store, as the runner does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToYouth
from tests.counsel_bot.test_crisis_paths import (
    ANNA,
    CRISIS,
    T0,
    all_done,
    conversation_of,
    lead_pages,
    office,
    pending,
    restarted,
    staff,
    staff_notices,
    ticks,
    youth,
)


async def test_a_lead_paged_about_a_waiting_crisis_is_not_paged_again_after_a_restart() -> None:
    """Nobody on duty: the flag pages the lead after escalate_after (2 min). A deploy later,
    the conversation still waits with the same, unreviewed flag: the wait is kept with its
    page (`crisis_wait:<cid>`), so the lead is not paged again for it."""
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await ticks(c, 3)
    assert [e.key for e in await staff_notices(c)].count("staff_lead_page") == 1
    await all_done(c, T0 + timedelta(minutes=3, seconds=5))  # the page went out
    again = await restarted(c, T0 + timedelta(minutes=5))
    await ticks(again, 6, 8, 10)
    pages = await lead_pages(again)
    assert pages == [], "the lead was paged a second time about the same flag"


async def test_a_flag_someone_took_does_not_page_after_a_restart() -> None:
    """Flagged in the queue, then taken by Anna before the timeout: the wait ended (a person
    has the conversation). A restart must not start a wait for the still unreviewed flag
    as if it had been raised while she had it; a restart used to page her lead about a
    conversation she was already in."""
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=1))  # takes it
    await ticks(c, 1 + 5 / 60)
    again = await restarted(c, T0 + timedelta(minutes=2))
    await ticks(again, 2 + 5 / 60, 5, 10, 30)
    pages = await lead_pages(again)
    assert pages == []


async def test_an_escalation_due_while_the_bot_was_down_pages_at_the_first_tick() -> None:
    """The flag rose at T0+10 s and its page was due at T0+2:10; the bot was down from
    T0+1 min to T0+30 min. The wait goes on from when it began: the page goes out at the
    first tick, not one more timeout later."""
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await ticks(c, 0.5)
    assert not await lead_pages(c)
    again = await restarted(c, T0 + timedelta(minutes=30))
    await ticks(again, 30 + 5 / 60)  # the first tick after the start (TICK_INTERVAL 5 s)
    pages = await lead_pages(again)
    assert len(pages) == 1, "a page due 28 minutes ago waits another timeout"


async def test_a_youth_asked_for_their_mail_address_is_switched_after_a_restart() -> None:
    """"mail" asks the youth for their address; a restart before the answer keeps the
    question (`mail_asked:<cid>`). Forgotten, the address was kept as an ordinary message
    (sealed intake shown to the counsellor) and the switch never came."""
    c = await office()
    switched: list[str] = []

    async def switch(_step: object, _conversation: object, address: str) -> None:
        switched.append(address)

    c.mail_switch = switch
    await youth(c, "hallo", T0)
    cid = await conversation_of(c)
    await youth(c, "mail", T0 + timedelta(minutes=1))
    assert [e.key for e in await pending(c) if isinstance(e, SayToYouth)
            ].count("mail.ask_address") == 1
    again = await restarted(c, T0 + timedelta(minutes=2))
    again.mail_switch = switch
    await youth(again, "sunflower@example.org", T0 + timedelta(minutes=3))
    intake = [item.body for item in await again.store.read_intake(cid)]
    assert switched == ["sunflower@example.org"], (
        f"not switched; the address became intake: {intake[-1]!r}")


class _Killed(Exception):
    """The process ends here (SIGKILL, the runner's 25 s stop timeout, a lost active role)."""


async def test_numbers_for_crisis_words_that_reopened_a_conversation_survive_a_crash() -> None:
    """Flagged and told the numbers in its first life, closed, then reopened by crisis words
    while its counsellor is on duty: the reopen's invitation is committed first
    (`_invite_first`), the crisis check after it. A crash between the two leaves the
    check to `finish_crisis_checks` at the next start. The numbers' key names the opening
    (the router's enqueued_at), so they are not taken for the first life's, already sent."""
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo, ich hab stress zuhause", T0)
    cid = await conversation_of(c)
    await youth(c, CRISIS, T0 + timedelta(minutes=1))  # first life: flagged, numbers given
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=20))
    await all_done(c, T0 + timedelta(minutes=20, seconds=30))  # all of it went out

    async def killed() -> None:
        raise _Killed

    c.urgent_answered = killed  # the process dies right after the reopen's first commit
    with pytest.raises(_Killed):
        await youth(c, CRISIS, T0 + timedelta(minutes=21))
    assert c.router.conversation(cid) is not None  # reopened and invited, check still due

    again = await restarted(c, T0 + timedelta(minutes=22))  # finish_crisis_checks runs
    current = again.router.conversation(cid)
    assert current is not None
    assert current.crisis.value == "raised"
    numbers = [e for e in await pending(again) if isinstance(e, SayToYouth)
               and e.key in ("safety_info", "safety_offer")]
    assert numbers, "the reopened youth's emergency numbers were dropped as a repeat"


async def _paged_taken_handed_back(c: Conductor) -> None:
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))  # nobody on duty: waits
    await ticks(c, 3)  # paged (escalate_after 2 min)
    assert len(await lead_pages(c)) == 1
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=4))  # Anna takes it
    await ticks(c, 4 + 5 / 60)  # the wait ends (taken): a tick with no effects
    await staff(c, ANNA, "!duty off", T0 + timedelta(minutes=5))  # hands it back unread
    await ticks(c, 5 + 5 / 60)  # a new wait begins: a tick with no effects


async def test_without_a_restart_the_handed_back_flag_pages_again() -> None:
    c = await office()
    await _paged_taken_handed_back(c)
    await ticks(c, 6, 8, 10, 30)
    assert len(await lead_pages(c)) == 2


async def test_a_wait_begun_at_a_tick_without_effects_survives_a_restart() -> None:
    """The flag paged once, was taken, handed back unread: a new wait, which pages again
    (above). Its start came at a tick that had nothing to send, which was not written (a
    second review found it): a restart then restored the first, paged wait, and the lead
    never heard of the flag back in the queue."""
    c = await office()
    await _paged_taken_handed_back(c)
    again = await restarted(c, T0 + timedelta(minutes=6))
    await ticks(again, 6 + 5 / 60, 8, 10, 30, 120)
    assert len(await lead_pages(again)) == 2
