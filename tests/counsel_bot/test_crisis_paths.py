"""Every way a youth's words reach the bot is checked for a crisis, and every flag reaches
a human: the paths an outside audit (2026-12-06) found short. Memory store, the real rules
detector, injected time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.config import Settings, StaffSettings, settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.forum import ForumDesk, ForumTopic
from counsel_bot.conversation.retention import run_retention
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import Assessment, CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import (
    DeactivateYouth,
    EraseConversation,
    Leave,
    PurgeRoom,
    SayInRoom,
    SayToStaff,
    Transcript,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.core.routing import Assign, Closed
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, SqliteStore, StoreBusyError, Transition
from tests.store.conftest import AeadSealer

# A Tuesday afternoon in Berlin (inside the default opening hours).
T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
ANNA, LEA = UserID("@anna:x"), UserID("@lea:x")
BEN = UserID("@ben:x")
STAFF_ROOM = RoomID("!staff:x")
ROOM, YOUTH = RoomID("!youth:x"), UserID("@sunflower:x")
CRISIS = "ich will mich umbringen"
_ids = iter(range(1_000_000))


def eid() -> EventID:
    return EventID(f"$p{next(_ids)}")


async def office(settings: Settings | None = None) -> Conductor:
    settings = settings or Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy_from(settings), T0)
    await c.sync_roster(T0)
    return c


async def pending(c: Conductor) -> list[Any]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def staff_notices(c: Conductor) -> list[SayToStaff]:
    return [e for e in await pending(c) if isinstance(e, SayToStaff)]


async def staff_keys(c: Conductor) -> list[str]:
    return [e.key for e in await staff_notices(c)]


async def youth(c: Conductor, body: str, at: datetime, room: RoomID = ROOM) -> None:
    await c.youth_wrote(room, YOUTH, None, eid(), body, at)


async def staff(c: Conductor, who: UserID, body: str, at: datetime) -> None:
    await c.staff_wrote(STAFF_ROOM, who, eid(), body, at)


async def conversation_of(c: Conductor, room: RoomID = ROOM) -> ConversationID:
    record = await c.store.conversation_by_room(room)
    assert record is not None
    return record.conversation


async def ticks(c: Conductor, *minutes: float) -> None:
    for m in minutes:
        await c.tick(T0 + timedelta(minutes=m))


# -- a flag goes on waiting for a human -----------------------------------------------------

async def test_a_flag_handed_back_with_nobody_on_duty_pages_the_lead() -> None:
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=5))  # waits: nobody on duty
    cid = await conversation_of(c)
    await staff(c, ANNA, "!duty on", T0 + timedelta(seconds=30))  # given to Anna at once
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to == ANNA
    await ticks(c, 35 / 60)  # taken: no page
    await staff(c, ANNA, "!duty off", T0 + timedelta(seconds=60))  # never looked at it
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to is None
    await ticks(c, 2, 5, 30)
    assert (await staff_keys(c)).count("staff_lead_page") == 1


OFFICES = {
    "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
    "offices": [
        {"id": "familie", "name": "Familienberatung", "topics": ["family"],
         "postcodes": ["89"], "counsellors": ["@anna:x"], "team_leads": ["@lea:x"]},
        {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
         "counsellors": ["@cem:x"], "team_leads": ["@ida:x"]},
    ],
}


async def test_going_off_duty_from_a_confirmed_crisis_pages_the_on_call_lead() -> None:
    """Issue 16: a flagged conversation whose office has nobody on duty goes to the on-call
    office, and its team lead is paged."""
    c = await office(settings_from_mapping(OFFICES))
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    cid = await conversation_of(c)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await staff(c, ANNA, f"!confirm {cid}", T0 + timedelta(seconds=40))
    await staff(c, ANNA, "!duty off", T0 + timedelta(minutes=1))  # the end of her shift
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to is None
    await ticks(c, 3, 10, 60)
    pages = [e for e in await staff_notices(c) if e.key == "staff_lead_page_waiting"]
    assert [p.mentions for p in pages] == [(UserID("@ida:x"),)]


async def test_an_unreviewed_flag_still_pages_the_lead_after_the_youth_writes_ende() -> None:
    c = await office()  # nobody on duty: the staff room's alert may go unread
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    assert "staff_crisis_alert" in await staff_keys(c)
    await youth(c, "ende", T0 + timedelta(seconds=20))
    await ticks(c, 1, 3, 10)
    pages = [e for e in await staff_notices(c) if e.key == "staff_lead_page_closed"]
    assert [p.mentions for p in pages] == [(LEA,)]


async def test_an_unreviewed_flag_of_a_closed_conversation_pages_its_own_offices_lead() -> None:
    """With offices, the page about a flag nobody reviewed before the youth left goes to the
    conversation's office, as every other page does: not to the main staff room with every
    office's leads named (another office's staff learn of a youth's crisis that is not
    theirs, and the page is not where the office's own staff read)."""
    c = await office(settings_from_mapping(OFFICES))
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    cid = await conversation_of(c)
    current = c.router.conversation(cid)
    assert current is not None
    assert (current.office, current.assigned_to) == ("familie", ANNA)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))  # Anna does not look at it
    await youth(c, "ende", T0 + timedelta(seconds=20))
    assert c.router.conversation(cid) is None
    await ticks(c, 1, 3, 10, 30)
    pages = [e for e in await staff_notices(c) if e.key == "staff_lead_page_closed"]
    assert [(p.office, p.mentions) for p in pages] == [("familie", (LEA,))]


async def test_a_restart_does_not_lose_the_page_of_a_flag_its_counsellor_never_read() -> None:
    """Anna had the conversation when the flag rose and never confirmed or dismissed it; the
    youth wrote "ende". Without a restart the lead is paged (above); a restart before the
    page fell due (an update, a crash) must not drop it: the wait was saved."""
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await youth(c, "ende", T0 + timedelta(seconds=20))
    later = T0 + timedelta(minutes=1)
    again = await Conductor.open(c.store, CrisisDetector.from_directory(default_lexicon_dir()),
                                 c.policy, later)
    await again.sync_roster(later)
    await ticks(again, 3, 10, 30)
    pages = [e for e in await staff_notices(again) if e.key == "staff_lead_page_closed"]
    assert [p.mentions for p in pages] == [(LEA,)]


class _BusyOnce(MemoryStore):
    """A store whose next commit fails (the database locked a moment), then works again."""

    busy = False

    async def commit_transition(self, transition: Transition) -> bool:
        if self.busy:
            self.busy = False
            raise StoreBusyError("the database stayed locked; try again")
        return await super().commit_transition(transition)


async def test_a_page_whose_tick_failed_to_commit_goes_out_at_the_next_tick() -> None:
    """The tick that falls due pages the lead; when its commit fails (a locked database),
    nothing of it was written, so the next tick must page: the crisis nobody handled
    still waits for a human."""
    store = _BusyOnce(AeadSealer())
    settings = Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)))
    c = await Conductor.open(store, CrisisDetector.from_directory(default_lexicon_dir()),
                             policy_from(settings), T0)
    await c.sync_roster(T0)
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=5))  # nobody on duty: it waits
    await ticks(c, 1)
    store.busy = True
    with pytest.raises(StoreBusyError):
        await ticks(c, 5)
    await ticks(c, 5.5, 6)
    assert (await staff_keys(c)).count("staff_lead_page") == 1


async def test_a_crisis_mail_whose_commit_failed_still_flags_when_it_comes_again() -> None:
    """A mail's delivery whose commit fails is answered 451 and the bot goes on; the
    sender's server delivers it again later. The words must flag then: the failed attempt
    left the conversation's level raised in memory only, not in the router or the store."""
    from tests.support.mail_office import RecordingSender, office_on

    store = _BusyOnce(AeadSealer())
    o = await office_on(store, RecordingSender(), T0)
    cid = await o.mail.mail_opened(RoomID("!mail:x"), "mailto:kim@youth.example", "de", T0)
    await o.mail.mail_received(cid, EventID("$mail1"), "hallo, ich hab stress", T0)
    store.busy = True
    with pytest.raises(StoreBusyError):
        await o.mail.mail_received(cid, EventID("$mail2"), CRISIS, T0 + timedelta(minutes=1))
    await o.mail.mail_received(cid, EventID("$mail2"), CRISIS, T0 + timedelta(minutes=11))
    current = o.conductor.router.conversation(cid)
    assert current is not None
    assert current.crisis.value == "raised"
    assert "staff_crisis_alert" in await staff_keys(o.conductor)


# -- words written after the close ---------------------------------------------------------

async def closed_by_anna(c: Conductor) -> ConversationID:
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo, ich hab stress zuhause", T0)
    cid = await conversation_of(c)
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=20))
    assert c.router.conversation(cid) is None  # closed; the youth is asked for a score
    return cid


async def test_crisis_words_written_after_the_close_open_the_conversation_again() -> None:
    c = await office()
    cid = await closed_by_anna(c)
    # The youth answers the score question with what they could not say before.
    await youth(c, CRISIS, T0 + timedelta(minutes=21))
    current = c.router.conversation(cid)
    assert current is not None
    assert current.crisis.value == "raised"
    assert current.assigned_to == ANNA  # she is still on duty: invited back at once
    assert "staff_crisis_alert" in await staff_keys(c)
    to_youth = [getattr(e, "key", "") for e in await pending(c)]
    assert "reopened_for_youth" in to_youth
    assert "safety_info" in to_youth
    assert "closed_write_new" not in to_youth
    assert not [e for e in await pending(c) if type(e).__name__ == "Leave"]
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    assert record.closed_at is None


async def test_a_second_crisis_after_a_second_close_alerts_and_tells_the_youth_again() -> None:
    """Flagged before the close and after: the level starts afresh, and the safety text is
    not taken for the first one (which went out in the first opening)."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, CRISIS, T0 + timedelta(minutes=21))
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=40))
    await youth(c, CRISIS, T0 + timedelta(minutes=41))
    keys = [getattr(e, "key", "") for e in await pending(c)]
    assert keys.count("staff_crisis_alert") == 2
    assert keys.count("safety_info") == 2


async def test_a_score_or_a_goodbye_after_the_close_does_not_open_it_again() -> None:
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "danke, tschüss", T0 + timedelta(minutes=21))
    assert c.router.conversation(cid) is None
    keys = [getattr(e, "key", "") for e in await pending(c)]
    assert "closed_write_new" in keys
    assert "staff_crisis_alert" not in keys
    # Who writes after the close may need help now: the numbers come with the pointer.
    [pointer] = [e for e in await pending(c) if getattr(e, "key", "") == "closed_write_new"]
    assert "116 111" in text(pointer.key, "de", **dict(pointer.params))


# -- a forum post ----------------------------------------------------------------------------

async def test_a_forum_post_with_crisis_words_goes_to_the_counsellors_not_the_queue() -> None:
    c = await office()
    forum = ForumDesk(c, (ForumTopic("schule", "Schule und Prüfungen"),))
    await forum.load()
    c.addons.append(forum)
    await youth(c, f"forum schule {CRISIS}, keiner in der klasse redet mit mir", T0)
    keys = [getattr(e, "key", "") for e in await pending(c)]
    assert "staff_crisis_alert" in keys
    assert "safety_info" in keys
    assert "forum.staff_new" not in keys  # not left for moderation
    assert "forum.to_counsellor" in keys  # the youth is told it will not appear
    assert forum.pending == []
    assert c.router.conversation(await conversation_of(c)) is not None


async def test_a_redelivered_crisis_post_tells_the_youth_once() -> None:
    c = await office()
    forum = ForumDesk(c, (ForumTopic("schule", "Schule und Prüfungen"),))
    await forum.load()
    c.addons.append(forum)
    event, body = eid(), f"forum schule {CRISIS}"
    await c.youth_wrote(ROOM, YOUTH, None, event, body, T0)
    await c.youth_wrote(ROOM, YOUTH, None, event, body, T0)  # the same event again
    keys = [getattr(e, "key", "") for e in await pending(c)]
    assert keys.count("forum.to_counsellor") == 1
    assert keys.count("staff_crisis_alert") == 1


async def test_an_ordinary_forum_post_still_waits_for_moderation() -> None:
    c = await office()
    forum = ForumDesk(c, (ForumTopic("schule", "Schule und Prüfungen"),))
    await forum.load()
    c.addons.append(forum)
    await youth(c, "forum schule wie lernt ihr für mathe?", T0)
    keys = [getattr(e, "key", "") for e in await pending(c)]
    assert "forum.staff_new" in keys
    assert "staff_crisis_alert" not in keys


# -- erasure ---------------------------------------------------------------------------------

async def test_an_erased_conversation_leaves_no_page_behind() -> None:
    """Erased means erased: the alert went out when the words were flagged; no page names
    the conversation after the youth had it deleted (a decision, see the README)."""
    c = await office()
    c.can_delete = lambda: True
    await youth(c, "hallo", T0)
    cid = await conversation_of(c)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await youth(c, "löschen", T0 + timedelta(seconds=20))
    await youth(c, "ja löschen", T0 + timedelta(seconds=30))
    await c.store.erase_conversation(cid)
    await ticks(c, 3, 10)
    keys = await staff_keys(c)
    assert "staff_lead_page" not in keys
    assert "staff_lead_page_closed" not in keys


# -- a conversation opened again (the review of the fixes above) ------------------------------

async def all_done(c: Conductor, at: datetime) -> None:
    """The outbox worker performed everything so far (done rows keep their keys)."""
    await c.store.mark_outbox_done([e.key for e in await c.store.pending_outbox()], at=at)


async def test_the_counsellor_is_invited_back_into_a_reopened_conversation() -> None:
    """Anna closed it, so she was removed from the room: the reopen must invite her again
    under a key of its own, not one the first invitation's done row already holds."""
    c = await office()
    cid = await closed_by_anna(c)
    await all_done(c, T0 + timedelta(minutes=20, seconds=30))
    await youth(c, CRISIS, T0 + timedelta(minutes=21))
    current = c.router.conversation(cid)
    assert current is not None
    assert current.assigned_to == ANNA
    assert [e for e in await pending(c) if isinstance(e, Assign)]


async def test_a_reopened_conversation_closes_again_and_shows_its_transcript() -> None:
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo, ich hab stress zuhause", T0)
    cid = await conversation_of(c)
    await c.member_joined(ROOM, ANNA, eid(), T0 + timedelta(seconds=5))  # transcript 1
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=20))
    await all_done(c, T0 + timedelta(minutes=20, seconds=30))
    await youth(c, CRISIS, T0 + timedelta(minutes=21))  # open again, Anna's again
    await c.member_joined(ROOM, ANNA, eid(), T0 + timedelta(minutes=22))
    assert [e for e in await pending(c) if isinstance(e, Transcript)]
    await all_done(c, T0 + timedelta(minutes=23))
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=40))
    assert c.router.conversation(cid) is None
    assert [e for e in await pending(c) if isinstance(e, Closed)]  # Anna removed again


async def test_the_bot_stays_a_while_after_a_score_and_a_reopen_keeps_it() -> None:
    """ "1", then what the youth could not say: the bot leaves only ten minutes after the
    first word after the close (it left at once before, and a youth's crisis words a few
    seconds later reached nobody, or raced the Leave in the same sync batch)."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "1", T0 + timedelta(minutes=21))
    assert not [e for e in await pending(c) if isinstance(e, Leave)]
    await youth(c, CRISIS, T0 + timedelta(minutes=24))
    assert c.router.conversation(cid) is not None
    await ticks(c, 40)
    assert not [e for e in await pending(c) if isinstance(e, Leave)]


async def test_the_bot_leaves_a_closed_room_ten_minutes_after_the_score_also_after_a_restart(
) -> None:
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "5", T0 + timedelta(minutes=21))
    await ticks(c, 30)
    assert not [e for e in await pending(c) if isinstance(e, Leave)]
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    again = await Conductor.open(c.store, detector, c.policy, T0 + timedelta(minutes=30))
    await again.tick(T0 + timedelta(minutes=31))
    assert [e for e in await pending(again) if isinstance(e, Leave)] == [Leave(cid)]
    assert await again.store.sealed_settings("leave_after:") == []


async def test_a_leave_for_a_conversation_open_again_leaves_nothing() -> None:
    """The executor's guard: a Leave performed after a reopen (a replay, say) stays."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, CRISIS, T0 + timedelta(minutes=21))
    executor = Executor(None, c.store, FakeClock(T0),  # type: ignore[arg-type]
                        default_language="de", staff_room=_no_staff_room)
    await executor.perform(Leave(cid), "leave:test")  # no client: would fail if it left


async def _no_staff_room() -> RoomID | None:
    return None


async def test_a_close_performed_after_the_reopen_keeps_the_words_that_reopened_it() -> None:
    """The close's effect deletes the sealed intake (kept only for a counsellor who joins
    later). Performed after the reopen (it waits while the homeserver is slow or refuses
    the bot's sends for a while, and the youth wrote on meanwhile), it deleted the crisis
    words that had opened the conversation again: whoever then took the crisis got a
    transcript without them."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, CRISIS, T0 + timedelta(minutes=21))
    assert c.router.conversation(cid) is not None  # open again
    executor = Executor(None, c.store, FakeClock(T0),  # type: ignore[arg-type]
                        default_language="de", staff_room=_no_staff_room)
    await executor.perform(Closed(cid, None, None), "closed:test")  # the youth ended it
    assert CRISIS.encode() in [i.body for i in await c.store.read_intake(cid)]
    # Still closed when performed in time: the intake goes, as before.
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=40))
    await executor.perform(Closed(cid, None, None), "closed:test2")
    assert await c.store.read_intake(cid) == []


async def test_a_reopened_conversation_on_sqlite_is_open_after_a_restart(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "counsel.sqlite3", AeadSealer())
    try:
        settings = Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)))
        detector = CrisisDetector.from_directory(default_lexicon_dir())
        c = await Conductor.open(store, detector, policy_from(settings), T0)
        await c.sync_roster(T0)
        cid = await closed_by_anna(c)
        await youth(c, CRISIS, T0 + timedelta(minutes=21))
        record = await store.conversation_by_room(ROOM)
        assert record is not None
        assert record.closed_at is None
        assert record.state.value == "assigned"
        again = await Conductor.open(store, detector, policy_from(settings),
                                     T0 + timedelta(minutes=22))
        assert again.router.conversation(cid) is not None
        assert again.rooms[cid] == ROOM
    finally:
        await store.close()


# -- what a page says, and to whom ---------------------------------------------------------

async def test_a_page_for_an_ended_conversation_names_an_office_lead() -> None:
    """Leads only per office (no [staff] team_leads): the page still calls someone."""
    c = await office(settings_from_mapping(OFFICES))
    await youth(c, "Stress mit meinen Eltern, 89073", T0)  # nobody on duty
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await youth(c, "ende", T0 + timedelta(seconds=20))
    await ticks(c, 1, 3, 10)
    [page] = [e for e in await staff_notices(c) if e.key == "staff_lead_page_closed"]
    # Familie has nobody on duty: the on-call office's lead, as for an open conversation.
    assert (page.office, page.mentions) == ("jugend", (UserID("@ida:x"),))


async def test_a_conversation_opened_again_is_not_paged_as_ended() -> None:
    c = await office()  # nobody on duty
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await youth(c, "ende", T0 + timedelta(seconds=20))
    await ticks(c, 0.5)  # the tracker sees it closed
    await youth(c, "ich will mich wirklich umbringen", T0 + timedelta(seconds=40))
    await ticks(c, 3, 10)
    keys = await staff_keys(c)
    assert keys.count("staff_lead_page") == 1
    assert "staff_lead_page_closed" not in keys


async def test_a_confirmed_crisis_that_ends_after_the_shift_is_not_paged_as_unreviewed() -> None:
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo", T0)
    cid = await conversation_of(c)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await staff(c, ANNA, f"!confirm {cid}", T0 + timedelta(seconds=40))
    await ticks(c, 1, 5)
    await staff(c, ANNA, "!duty off", T0 + timedelta(minutes=30))
    await ticks(c, 30.2)  # back in the queue: a wait
    await youth(c, "ende", T0 + timedelta(minutes=30, seconds=30))
    await ticks(c, 31, 33, 40)
    keys = await staff_keys(c)
    assert "staff_lead_page_closed" not in keys
    assert "staff_lead_page_waiting" not in keys


async def test_a_stronger_flag_after_a_page_pages_again() -> None:
    c = await office()  # nobody on duty
    await youth(c, "hallo", T0)
    await youth(c, "ich kann nicht mehr", T0 + timedelta(seconds=10))  # medium
    await ticks(c, 3)
    assert (await staff_keys(c)).count("staff_lead_page") == 1
    await youth(c, "ich hab tabletten gesammelt", T0 + timedelta(minutes=5))  # high
    assert (await staff_keys(c)).count("staff_crisis_alert") == 2
    await ticks(c, 8, 15)
    assert (await staff_keys(c)).count("staff_lead_page") == 2


async def test_a_group_flag_calls_the_office_leads_too() -> None:
    """Leads only per office: the group's alert still calls a lead with the host."""
    settings = settings_from_mapping({
        "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
        "offices": [{"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
                     "counsellors": [str(ANNA)], "team_leads": [str(LEA)]}],
    })
    c = await office(settings)
    assert c.every_lead() == (LEA,)


async def test_an_ended_unreviewed_flag_still_pages_after_a_restart() -> None:
    """A deploy a minute after the youth wrote "ende": the wait lived in memory; the store
    knows the conversation ended with a flag nobody reviewed."""
    c = await office()  # nobody on duty
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await youth(c, "ende", T0 + timedelta(seconds=20))
    await c.tick(T0 + timedelta(seconds=30))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    again = await Conductor.open(c.store, detector, c.policy, T0 + timedelta(minutes=1))
    for minutes in (3, 10, 30):
        await again.tick(T0 + timedelta(minutes=minutes))
    pages = [e for e in await staff_notices(again) if e.key == "staff_lead_page_closed"]
    assert [p.mentions for p in pages] == [(LEA,)]


async def test_a_closed_conversation_leaves_no_words_in_memory() -> None:
    """The detector keeps a conversation's last few messages to judge short ones together;
    at the close they go (they sat in the process until its restart before)."""
    c = await office()
    cid = await closed_by_anna(c)
    assert cid not in c.crisis._risk


class _SlowPurger:
    """The admin API's room purge; the youth writes while the first room is purged."""

    def __init__(self, during_first: Callable[[], Awaitable[None]]) -> None:
        self.during_first = during_first
        self.purged: list[str] = []

    async def delete_room_and_wait(self, room_id: str) -> object:
        if not self.purged:
            await self.during_first()
        self.purged.append(room_id)
        return None


async def test_a_conversation_reopened_during_a_retention_run_is_not_purged() -> None:
    c = await office()
    other = RoomID("!other:x")
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo", T0, room=other)
    first = await conversation_of(c, other)
    await staff(c, ANNA, f"!close {first}", T0 + timedelta(minutes=5))
    cid = await closed_by_anna(c)
    later = T0 + timedelta(days=31)

    async def youth_writes() -> None:
        await youth(c, CRISIS, later)

    purger = _SlowPurger(youth_writes)
    report = await run_retention(c.store, purger, later, timedelta(days=30), dry_run=False)
    assert purger.purged == [other]
    assert report.deleted == (first,)
    assert c.router.conversation(cid) is not None
    assert await c.store.conversation(cid) is not None


async def restarted(c: Conductor, at: datetime) -> Conductor:
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    return await Conductor.open(c.store, detector, c.policy, at)


async def lead_pages(c: Conductor) -> list[SayToStaff]:
    """Every page to a team lead waiting in the outbox (waiting, unreviewed or ended)."""
    return [e for e in await staff_notices(c) if e.key.startswith("staff_lead_page")]


async def test_a_page_sent_before_a_restart_is_not_sent_again_after_it() -> None:
    c = await office()  # nobody on duty
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await c.tick(T0 + timedelta(minutes=10))
    assert (await staff_keys(c)).count("staff_lead_page") == 1
    await youth(c, "ende", T0 + timedelta(minutes=11))
    await c.tick(T0 + timedelta(minutes=11, seconds=5))
    await all_done(c, T0 + timedelta(minutes=11, seconds=10))
    again = await restarted(c, T0 + timedelta(minutes=12))
    await ticks(again, 15, 25, 40)
    assert not await lead_pages(again)


async def test_a_restart_pages_no_flag_a_counsellor_took_before_the_close() -> None:
    c = await office()
    await youth(c, "hallo", T0)
    cid = await conversation_of(c)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await staff(c, ANNA, "!duty on", T0 + timedelta(seconds=40))  # takes it
    await c.tick(T0 + timedelta(seconds=45))
    await staff(c, ANNA, f"!close {cid}", T0 + timedelta(minutes=20))  # no !confirm
    await all_done(c, T0 + timedelta(minutes=20, seconds=5))
    again = await restarted(c, T0 + timedelta(minutes=21))
    await ticks(again, 23, 30, 60)
    assert not await lead_pages(again)


async def test_a_restart_long_after_an_unreviewed_end_still_pages() -> None:
    """Down for half an hour after the youth wrote "ende" (a crash before the page)."""
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    await youth(c, "ende", T0 + timedelta(seconds=20))
    again = await restarted(c, T0 + timedelta(minutes=30))
    await ticks(again, 31, 33)
    pages = [e for e in await staff_notices(again) if e.key == "staff_lead_page_closed"]
    assert [p.mentions for p in pages] == [(LEA,)]


async def test_a_review_without_an_id_in_the_staff_room_names_the_command_in_its_hint() -> None:
    """Found on a fresh install: "!confirm" alone answered "… C-XXXXXXXX", not naming it."""
    c = await office()
    await staff(c, ANNA, "!confirm", T0)
    [reply] = [e for e in await pending(c) if isinstance(e, SayInRoom)]
    assert dict(reply.params)["hint"] == "!confirm C-XXXXXXXX"


# -- the numbers the youth is given --------------------------------------------------------

async def test_the_safety_text_names_the_emergency_numbers_of_the_youths_office() -> None:
    """An office with its own emergency numbers (another region's crisis line): the youth
    in crisis gets those, as in their welcome and the pointer after the close, not the
    installation's [crisis] numbers."""
    local = "Krisendienst Schwaben 0800 655 3000"
    settings = settings_from_mapping({
        "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
        "offices": [
            {"id": "familie", "name": "Familienberatung", "topics": ["family"],
             "postcodes": ["89"], "counsellors": ["@anna:x"], "emergency_de": local},
            {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
             "counsellors": ["@cem:x"]},
        ],
    })
    c = await office(settings)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)  # the family office's
    cid = await conversation_of(c)
    current = c.router.conversation(cid)
    assert current is not None
    assert current.office == "familie"
    await youth(c, CRISIS, T0 + timedelta(seconds=10))
    [safety] = [e for e in await pending(c) if getattr(e, "key", "") == "safety_info"]
    assert dict(safety.params)["emergency"] == local


async def test_crisis_words_split_over_short_lines_after_the_close_open_it_again() -> None:
    """In an open conversation the short lines of a burst are judged together; after the
    close each was judged alone, so "ich will" / "nicht mehr leben" got two pointers to a
    new chat and reached nobody."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "ich will", T0 + timedelta(minutes=21))
    await youth(c, "nicht mehr leben", T0 + timedelta(minutes=21, seconds=10))
    current = c.router.conversation(cid)
    assert current is not None
    assert current.crisis.value == "raised"
    assert "staff_crisis_alert" in await staff_keys(c)


async def test_the_burst_that_opens_it_again_is_kept_whole_for_the_counsellor() -> None:
    """The burst's earlier short lines were judged with the last one, but only the last went
    into the conversation's words: the counsellor called back by the alert read "mich
    umbringen" without "ich will", or any line of it that said who or what."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "ich will", T0 + timedelta(minutes=21))
    await youth(c, "nicht mehr leben", T0 + timedelta(minutes=21, seconds=10))
    assert c.router.conversation(cid) is not None
    words = [item.body.decode() for item in await c.store.read_intake(cid)]
    assert any("ich will" in said and "nicht mehr leben" in said for said in words)


async def test_short_lines_after_the_close_leave_memory_within_a_minute() -> None:
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "ich will", T0 + timedelta(minutes=21))
    assert cid in c.crisis._after_close
    await c.tick(T0 + timedelta(minutes=22, seconds=1))
    assert cid not in c.crisis._after_close


async def test_the_counsellor_given_a_flagged_youth_from_the_queue_is_named_in_an_alert() -> None:
    """Flagged with nobody on duty: the staff room's alert names nobody. The counsellor who
    comes on duty is given the youth first, and that assignment ends the wait that would
    page a lead; she was told only "C-… is now with Anna", nothing of the crisis."""
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, CRISIS, T0 + timedelta(seconds=5))
    [alert] = [n for n in await staff_notices(c) if n.key == "staff_crisis_alert"]
    assert alert.mentions == ()
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=1))
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.assigned_to == ANNA
    assert [n.mentions for n in await staff_notices(c)
            if n.key == "staff_crisis_alert"] == [(), (ANNA,)]


async def test_a_message_after_the_close_set_aside_alerts_the_staff_about_its_conversation(
) -> None:
    """The words a youth writes after the close may be the crisis they could not say before
    (they open the conversation again). One the bot failed on twice was set aside as "a
    command or a message outside a conversation": a digest line naming nothing, and the
    youth was not asked to write it again."""
    c = await office()
    cid = await closed_by_anna(c)
    await c.set_aside(ROOM, YOUTH, eid(), T0 + timedelta(minutes=21), ("failed_event:$x", ""))
    effects = await pending(c)
    assert [dict(n.params).get("conversation") for n in await staff_notices(c)
            if n.key == "staff_message_set_aside"] == [cid]
    assert "message_set_aside" in [getattr(e, "key", "") for e in effects]


# -- after a !dismiss ------------------------------------------------------------------------

HARMLESS = "hab meinem bruder meine alte switch geschenkt"


async def model_flags_harmless(store: MemoryStore) -> Conductor:
    """The model's false flag, at high severity, on `HARMLESS`; the rules on the rest."""
    rules = CrisisDetector.from_directory(default_lexicon_dir())

    async def judge(texts: Sequence[str]) -> list[Assessment]:
        return [Assessment(True, "suicide", "high", ("model.suicide",), 0.93)
                if HARMLESS in text else rules.assess(text) for text in texts]

    settings = Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)))
    c = await Conductor.open(store, rules, policy_from(settings), T0, judge=judge)
    await c.sync_roster(T0)
    return c


async def assert_raised_again_for_anna(c: Conductor, cid: ConversationID) -> None:
    """The dismissed flag is raised again, and its second alert mentions Anna."""
    current = c.router.conversation(cid)
    assert current is not None
    assert current.crisis.value == "raised"
    alerts = [n for n in await staff_notices(c) if n.key == "staff_crisis_alert"]
    assert len(alerts) == 2
    assert alerts[-1].mentions == (ANNA,)


async def dismissed_after(c: Conductor, harmless: str) -> ConversationID:
    """Anna on duty takes the youth; ``harmless`` raises the model's flag alone, and Anna
    dismisses it."""
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo", T0)
    cid = await conversation_of(c)
    await youth(c, harmless, T0 + timedelta(minutes=2))
    assert (await staff_keys(c)).count("staff_crisis_alert") == 1
    await staff(c, ANNA, f"!dismiss {cid}", T0 + timedelta(minutes=3))
    return cid


async def test_crisis_words_said_outright_after_a_dismissed_model_flag_alert_again() -> None:
    """The model alone flagged a harmless line at high severity (it does so in ordinary
    chats) and the counsellor dismissed it. When the youth then wrote "ich will mich
    umbringen", a rule's flag at that same severity, nothing happened: the detector's level
    and the router's dismissal both wait for a stronger flag, and there is none."""
    c = await model_flags_harmless(MemoryStore(AeadSealer()))
    cid = await dismissed_after(c, HARMLESS)
    await youth(c, CRISIS, T0 + timedelta(minutes=10))
    await assert_raised_again_for_anna(c, cid)


async def test_crisis_words_said_outright_after_a_dismissed_model_flag_and_a_restart() -> None:
    """As above, with a deploy between the dismissal and the words: the detector's level
    starts again from the router's severity, which did not say the model had raised it."""
    store = MemoryStore(AeadSealer())
    c = await model_flags_harmless(store)
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo", T0)
    cid = await conversation_of(c)
    await youth(c, HARMLESS, T0 + timedelta(minutes=2))
    await staff(c, ANNA, f"!dismiss {cid}", T0 + timedelta(minutes=3))
    again = await model_flags_harmless(store)
    await youth(again, CRISIS, T0 + timedelta(minutes=10))
    current = again.router.conversation(cid)
    assert current is not None
    assert current.crisis.value == "raised"
    assert (await staff_keys(again)).count("staff_crisis_alert") == 2


async def test_a_failing_appointment_reminder_holds_back_no_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The video review (2026-12-06): the tick's reminders and its crisis pages were one
    step, so a bug in one appointment's reminder lost the page with it, at every tick and
    every start after. The pages go on; the staff are told once a day what fails."""
    c = await office()
    await youth(c, CRISIS, T0)  # waits: nobody on duty

    async def broken(*_args: object) -> None:
        raise ValueError("a reminder that cannot be built")
    monkeypatch.setattr(c.appointments, "due", broken)
    await ticks(c, 3, 4, 5)
    keys = await staff_keys(c)
    assert keys.count("staff_lead_page") == 1
    assert keys.count("staff_reminders_failed") == 1


async def test_without_team_leads_a_page_calls_the_counsellors() -> None:
    """The crisis-path review (2026-12-06): a configuration may name no team lead (a small
    office), and then a crisis nobody took paged nobody by name. It calls the counsellors,
    whose phones ring on a mention, on duty or not."""
    c = await office(Settings(staff=StaffSettings(counsellors=(ANNA, BEN))))
    await youth(c, CRISIS, T0)  # waits: nobody on duty
    await ticks(c, 3)
    [page] = [e for e in await staff_notices(c) if e.key == "staff_lead_page"]
    assert set(page.mentions) == {ANNA, BEN}


async def test_self_harm_said_outright_after_a_dismissed_high_model_flag_alerts_again() -> None:
    """As above, with the model's dismissed guess at high severity and the youth then
    writing "ich ritze mich", a rule's explicit reading at medium: news as much as one at
    the guess's own severity, yet it waited for a flag stronger than the dismissed guess."""
    rules = CrisisDetector.from_directory(default_lexicon_dir())
    harmless = "hab meinem bruder meine alte switch geschenkt"

    async def judge(texts: Sequence[str]) -> list[Assessment]:
        return [Assessment(True, "suicide", "high", ("model.suicide",), 0.93)
                if harmless in text else rules.assess(text) for text in texts]

    settings = Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)))
    c = await Conductor.open(MemoryStore(AeadSealer()), rules, policy_from(settings), T0,
                             judge=judge)
    await c.sync_roster(T0)
    cid = await dismissed_after(c, harmless)
    await youth(c, "ich ritze mich", T0 + timedelta(minutes=10))
    await assert_raised_again_for_anna(c, cid)


class _RecordingAdmin:
    """The admin API as the executor uses it for a youth's deletion; records the calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def delete_room_and_wait(self, room_id: str) -> object:
        self.calls.append(f"purge {room_id}")
        return None

    async def room_exists(self, room_id: str) -> bool:
        return True

    async def get_user(self, user_id: str) -> Any:
        return None

    async def deactivate(self, user_id: str, *, erase: bool = True) -> None:
        self.calls.append(f"deactivate {user_id}")


async def test_a_deletion_the_youths_crisis_words_overtook_deletes_nothing() -> None:
    """The store review (2026-12-06): crisis words written between "ja löschen" and the
    purge open the conversation again, and the deletion's steps then purged the room,
    deactivated the account and erased the conversation with its pending crisis alert."""
    c = await office()
    cid = await closed_by_anna(c)
    await youth(c, "löschen", T0 + timedelta(minutes=21))
    await youth(c, "ja löschen", T0 + timedelta(minutes=21, seconds=10))
    await youth(c, CRISIS, T0 + timedelta(minutes=21, seconds=20))
    assert c.router.conversation(cid) is not None  # open again
    admin = _RecordingAdmin()
    executor = Executor(None, c.store, FakeClock(T0),  # type: ignore[arg-type]
                        default_language="de", staff_room=_no_staff_room)
    executor.admin = admin  # type: ignore[assignment]
    for effect in (PurgeRoom(cid), DeactivateYouth(cid), EraseConversation(cid)):
        with pytest.raises(EffectFailed):
            await executor.perform(effect, f"test:{type(effect).__name__}")
    assert admin.calls == []
    assert await c.store.conversation(cid) is not None
    assert "staff_crisis_alert" in await staff_keys(c)


async def test_a_crisis_alert_in_a_long_chat_does_not_say_the_youth_waited_all_along() -> None:
    """The alert counted its minutes from the chat's opening (kept across handovers for the
    queue's order) and called them waiting: two hours into Anna's chat, a flag read
    "waiting 120 min, @anna:x", and a lead reading it thought a youth in crisis had waited
    two hours for a human. The minutes are what the chat has been open."""
    c = await office()
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "hallo, mir geht es nicht gut", T0)
    later = T0 + timedelta(hours=2)
    await youth(c, CRISIS, later)
    [alert] = [n for n in await staff_notices(c) if n.key == "staff_crisis_alert"]
    params = dict(alert.params)
    assert params["assigned"] == ANNA
    assert "120 min" in text(alert.key, "en", **params, link="-")
    assert "waiting" not in text(alert.key, "en", **params, link="-")
    assert "wartet" not in text(alert.key, "de", **params, link="-")
