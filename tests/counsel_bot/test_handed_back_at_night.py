"""A counsellor alone at night hands a youth back to the queue: nobody else can take them.

The router never gives a conversation back automatically to the counsellor who handed it
back (`Transfer` to the queue, or the response timers' hand-back), so with nobody else on
duty the youth waits until morning. "Someone else will join as soon as one is free" is then
a promise nobody keeps tonight: the youth is told when the chat opens again and where help
is meanwhile, as one left by the last counsellor going off duty is, and the counsellor is
told that nobody else can take it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from counsel_bot.config import RoutingSettings, Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.effects import SayInRoom, SayToStaff, SayToYouth, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ANNA = UserID("@anna:x")
STAFF_ROOM, ROOM, YOUTH = RoomID("!staff:x"), RoomID("!room:x"), UserID("@sunflower:x")
# Tuesday 22:30 in Berlin: the office (weekdays 14-20) is closed, Anna works on alone.
NIGHT = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)


async def night_shift() -> Conductor:
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,))))
    hours = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
        day: ["14:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")}})
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector,
                             replace(policy, hours=hours), NIGHT)
    await c.sync_roster(NIGHT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NIGHT)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo, bist du noch da?", NIGHT)
    return c


async def annas(c: Conductor) -> ConversationID:
    """The youth's conversation, which Anna has."""
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.assigned_to == ANNA
    return record.conversation


async def outbox(c: Conductor) -> list[object]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def test_handed_back_by_the_only_counsellor_the_youth_hears_when_it_opens_again(
) -> None:
    c = await night_shift()
    conversation = await annas(c)
    before = len(await outbox(c))
    later = NIGHT + timedelta(minutes=10)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$back"),
                        f"!transfer {conversation} queue", later)
    assert c.router.queue() == [conversation]
    new = (await outbox(c))[before:]
    to_youth = [e.key for e in new if isinstance(e, SayToYouth)]
    assert "out_of_hours" in to_youth, to_youth
    # ... and the counsellor who handed it back learns that nobody else will take it.
    to_anna = [e.key for e in new if isinstance(e, SayInRoom | SayToStaff)
               and ANNA in ((e.to,) if isinstance(e, SayInRoom) else e.mentions)]
    assert "transfer.queue_nobody_left" in to_anna, to_anna


async def test_handed_back_by_the_timers_the_youth_hears_when_it_opens_again() -> None:
    """Anna does not answer for the hand-back limit: the timers put the youth back in the
    queue, where nobody but Anna (whom the router does not choose again) is on duty."""
    c = await night_shift()
    conversation = await annas(c)
    before = len(await outbox(c))
    await c.tick(NIGHT + c.policy.timers.requeue_after)
    assert c.router.queue() == [conversation]
    new = (await outbox(c))[before:]
    to_youth = [e.key for e in new if isinstance(e, SayToYouth)]
    assert "out_of_hours" in to_youth, to_youth


async def test_the_last_counsellor_without_a_device_left_calls_the_leads_for_her_youths(
) -> None:
    """Anna, alone at night, logs out everywhere (or her account is closed): the bot signs
    her off and her youth goes back to the queue, where nobody is on duty. The staff-room
    notice named her and called nobody: the one who could have acted was gone, and the
    youth waited till morning unknown to anyone awake. The team leads are called, as when
    the timers hand back a youth nobody else can take."""
    lea = UserID("@lea:x")
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(lea,))))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, NIGHT)
    await c.sync_roster(NIGHT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NIGHT)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo, bist du noch da?", NIGHT)
    conversation = await annas(c)
    gone = DeviceTrustCheck(ANNA, has_identity=False, unsigned_devices=(), devices=0)
    await c.devices_checked(gone, NIGHT + timedelta(minutes=5))
    assert c.router.queue() == [conversation]
    called = [e for e in await outbox(c) if isinstance(e, SayToStaff) and lea in e.mentions
              and dict(e.params).get("conversation") == conversation]
    assert called, [e for e in await outbox(c) if isinstance(e, SayToStaff)]


async def test_the_only_counsellor_leaving_the_youths_room_is_told_nobody_else_takes_it(
) -> None:
    """Anna leaves the youth's room (her app's "leave", thinking the chat done): the youth
    goes back to the queue, where the router never gives it to her again and nobody else is
    on duty. Nothing said so to anyone; the youth waited all night while Anna took the next
    ones. Anna and the leads are called, as when the timers hand back a youth."""
    c = await night_shift()
    conversation = await annas(c)
    before = len(await outbox(c))
    await c.member_left(ROOM, ANNA, EventID("$left"), NIGHT + timedelta(minutes=5))
    assert c.router.queue() == [conversation]
    new = (await outbox(c))[before:]
    called = [e for e in new if isinstance(e, SayToStaff) and ANNA in e.mentions
              and dict(e.params).get("conversation") == conversation]
    assert called, new
    assert "out_of_hours" in [e.key for e in new if isinstance(e, SayToYouth)]


async def test_in_a_manual_queue_the_timers_hand_back_calls_no_lead_while_colleagues_can_take_it(
) -> None:
    """With `auto_assign = false` counsellors take youths with `!next`: nobody takes one at
    the moment the timers hand it back. The hand-back told the leads "nobody else on duty
    can take it" each time, with Ben on duty and free; they learn to ignore the call that
    matters. Now the staff room hears that it is back for someone else to take."""
    ben = UserID("@ben:x")
    settings = Settings(staff=StaffSettings(counsellors=(ANNA, ben), team_leads=("@lea:x",)),
                        routing=RoutingSettings(auto_assign=False))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    day = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy_from(settings), day)
    await c.sync_roster(day)
    for who in (ANNA, ben):
        await c.staff_wrote(STAFF_ROOM, who, EventID(f"$duty{who}"), "!duty on", day)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo, bist du da?", day)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$next"), "!next", day)
    conversation = await annas(c)
    before = len(await outbox(c))
    await c.tick(day + c.policy.timers.requeue_after)
    assert c.router.queue() == [conversation]
    to_staff = [e.key for e in (await outbox(c))[before:] if isinstance(e, SayToStaff)]
    assert "timers.requeued" in to_staff, to_staff
    assert "timers.requeued_nobody" not in to_staff, to_staff
