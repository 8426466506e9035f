"""The chat opens and nobody on duty can take a youth who waited through the night.

The youth wrote at night and read when the chat opens; at that time nobody came, and
nothing more was said: they waited on through a whole opening day unknown to anyone awake.
Now, at the first tick of the opening, the youth hears that the chat is open but nobody is
on duty yet (and where help is meanwhile), and the team leads are called, once per opening.
"""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.config import OpeningHoursSettings, Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, SayToYouth, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, Store
from tests.store.conftest import AeadSealer

ANNA, LEA, STAFF_ROOM = UserID("@anna:x"), UserID("@lea:x"), RoomID("!staff:x")
# Monday and Tuesday, 14-20 in Berlin (UTC+1 in November).
HOURS = OpeningHoursSettings(weekly={"mon": ("14:00-20:00",), "tue": ("14:00-20:00",)})
NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # Monday, 23:00 in Berlin: closed
BEFORE = datetime(2026, 11, 24, 12, 59, tzinfo=UTC)  # Tuesday, 13:59
OPENED = datetime(2026, 11, 24, 13, 1, tzinfo=UTC)  # Tuesday, 14:01
LATER = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday, 15:00


async def office(at: datetime, store: Store | None = None) -> Conductor:
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)),
                                  opening_hours=HOURS))
    c = await Conductor.open(store or MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, at)
    await c.sync_roster(at)
    return c


async def night_youth(c: Conductor) -> ConversationID:
    room = RoomID("!room:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                        "hallo, ich weiß nicht mehr weiter", NIGHT)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    return record.conversation


async def told(c: Conductor) -> list[object]:
    return [decode_effect(o.payload) for o in await c.store.pending_outbox()]


async def opening_notices(c: Conductor, conversation: ConversationID) -> tuple[
        list[SayToYouth], list[SayToStaff]]:
    effects = await told(c)
    youth = [e for e in effects if isinstance(e, SayToYouth) and e.conversation == conversation
             and e.key == "opened_nobody_on_duty"]
    staff = [e for e in effects if isinstance(e, SayToStaff)
             and e.key == "staff_opened_nobody_on_duty"]
    return youth, staff


async def test_a_night_youth_hears_at_the_opening_that_nobody_is_on_duty_yet() -> None:
    c = await office(NIGHT)
    conversation = await night_youth(c)
    await c.tick(BEFORE)
    assert await opening_notices(c, conversation) == ([], [])
    await c.tick(OPENED)
    youth, staff = await opening_notices(c, conversation)
    assert [e.params for e in youth] == [(("emergency", c.policy.emergency["de"]),)]
    assert [(e.params, e.mentions) for e in staff] == [
        ((("conversation", conversation), ("leads", LEA)), (LEA,))]
    outbox = len(await c.store.pending_outbox())
    await c.tick(LATER)  # once per opening
    assert len(await c.store.pending_outbox()) == outbox


async def test_a_counsellor_on_duty_at_the_opening_takes_the_youth_and_nobody_is_called() -> None:
    c = await office(NIGHT)
    conversation = await night_youth(c)
    await c.tick(BEFORE)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", BEFORE)
    await c.tick(OPENED)
    assert await opening_notices(c, conversation) == ([], [])


async def test_a_youth_who_came_after_the_opening_is_not_told_the_chat_opened() -> None:
    """They read "nobody is free right now" and the numbers in the welcome; a restart (no
    tick before it) must not tell them the chat has just opened."""
    store = MemoryStore(AeadSealer())
    c = await office(OPENED, store)
    room = RoomID("!room:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"), "hallo", OPENED)
    record = await store.conversation_by_room(room)
    assert record is not None
    restarted = await office(LATER, store)
    await restarted.tick(LATER)
    assert await opening_notices(restarted, record.conversation) == ([], [])


async def test_a_bot_down_across_the_opening_tells_at_its_first_tick() -> None:
    store = MemoryStore(AeadSealer())
    conversation = await night_youth(await office(NIGHT, store))
    restarted = await office(LATER, store)
    await restarted.tick(LATER)
    youth, staff = await opening_notices(restarted, conversation)
    assert (len(youth), len(staff)) == (1, 1)
