"""Staff devices not cross-signed: staff-room warnings, !duty on, routing, the gauge.

The conductor with a memory store, no server; the checks are made by hand here (the
integration test `test_device_trust_e2e.py` makes them from a real keys/query).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.effects import (
    Effect,
    SayInRoom,
    SayToStaff,
    SayToYouth,
    Supervise,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import Assign
from counsel_bot.metrics import CounselMetrics
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ANNA, BEN = UserID("@anna:x"), UserID("@ben:x")
STAFF_ROOM = RoomID("!staff:x")
AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


async def conductor(
    *, refuse: bool = False, store: MemoryStore | None = None,
    metrics: CounselMetrics | None = None,
) -> Conductor:
    staff = StaffSettings(counsellors=(ANNA, BEN), default_capacity=1,
                          unsigned_devices="refuse" if refuse else "warn")
    policy = policy_from(Settings(staff=staff))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(store or MemoryStore(AeadSealer()), detector, policy, AT,
                             metrics)
    await c.sync_roster(AT)
    return c


def check(user: UserID, *unsigned: str) -> DeviceTrustCheck:
    return DeviceTrustCheck(user, has_identity=True, unsigned_devices=tuple(sorted(unsigned)))


async def outbox(c: Conductor) -> list[Effect]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def staff_notices(c: Conductor, key: str) -> list[SayToStaff]:
    return [e for e in await outbox(c) if isinstance(e, SayToStaff) and e.key == key]


async def test_a_new_unsigned_device_is_named_once_in_the_staff_room_and_cleared_once() -> None:
    c = await conductor()
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT)
    [warning] = await staff_notices(c, "staff_unsigned_devices")
    assert dict(warning.params) == {"counsellor": ANNA, "devices": "NEWPHONE"}
    assert warning.mentions == (ANNA,)
    # The same state checked again (another device-list change): no second warning.
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT + timedelta(minutes=1))
    assert len(await staff_notices(c, "staff_unsigned_devices")) == 1
    await c.devices_checked(check(ANNA), AT + timedelta(minutes=2))
    [cleared] = await staff_notices(c, "staff_devices_verified")
    assert dict(cleared.params) == {"counsellor": ANNA}
    await c.devices_checked(check(ANNA), AT + timedelta(minutes=3))
    assert len(await staff_notices(c, "staff_devices_verified")) == 1
    # Signed staff were never warned, so there is nothing to clear.
    await c.devices_checked(check(BEN), AT)
    assert len(await outbox(c)) == 2


async def test_someone_not_on_the_staff_list_is_ignored() -> None:
    c = await conductor()
    await c.devices_checked(check(UserID("@youth:x"), "X"), AT)
    assert await outbox(c) == []


async def test_duty_on_with_an_unsigned_device_warns_and_goes_on_duty() -> None:
    c = await conductor()
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", AT)
    counsellor = c.router.counsellor(ANNA)
    assert counsellor is not None
    assert counsellor.on_duty
    replies = [e for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert [r.key for r in replies] == ["duty.on", "duty.unsigned_warn"]
    assert dict(replies[1].params) == {"devices": "NEWPHONE"}


async def test_duty_on_with_an_unsigned_device_is_refused_when_so_configured() -> None:
    c = await conductor(refuse=True)
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", AT)
    counsellor = c.router.counsellor(ANNA)
    assert counsellor is not None
    assert not counsellor.on_duty
    assert [e.key for e in await outbox(c) if isinstance(e, SayInRoom)] == [
        "duty.unsigned_refused"]
    # Verified: the same command now works.
    await c.devices_checked(check(ANNA), AT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty2"), "!duty on", AT)
    counsellor = c.router.counsellor(ANNA)
    assert counsellor is not None
    assert counsellor.on_duty


async def test_an_unsigned_session_added_on_duty_is_refused_as_at_duty_on() -> None:
    """``unsigned_devices = "refuse"`` promises "not on duty until every session is
    verified", and was kept only at ``!duty on``: a counsellor who logged in on a new,
    unverified session mid-shift (or whoever has her password) stayed on duty, was given
    the next youth (nobody else being free) and with her the room's keys and the
    transcript of what the youth had written."""
    c = await conductor(refuse=True)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", AT)
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT + timedelta(minutes=1))
    await c.youth_wrote(RoomID("!y1:x"), UserID("@y1:x"), None, EventID("$y1"), "hallo",
                        AT + timedelta(minutes=2))
    assert [e.counsellor for e in await outbox(c) if isinstance(e, Assign)] == []
    anna = c.router.counsellor(ANNA)
    assert anna is not None
    assert not anna.on_duty
    [told] = await staff_notices(c, "staff_unsigned_off_duty")
    assert dict(told.params) == {"counsellor": ANNA, "devices": "NEWPHONE"}


async def test_signed_colleagues_get_conversations_first() -> None:
    c = await conductor()
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT)
    for user, event in ((ANNA, "$a"), (BEN, "$b")):
        await c.staff_wrote(STAFF_ROOM, user, EventID(event), "!duty on", AT)
    await c.youth_wrote(RoomID("!y1:x"), UserID("@y1:x"), None, EventID("$y1"), "hallo", AT)
    assigned = [e for e in await outbox(c) if isinstance(e, Assign)]
    assert [a.counsellor for a in assigned] == [BEN]


async def test_announced_devices_survive_a_restart_without_a_second_warning() -> None:
    store = MemoryStore(AeadSealer())
    first = await conductor(store=store)
    await first.devices_checked(check(ANNA, "NEWPHONE"), AT)
    again = await conductor(store=store)
    assert again.router.unsigned == {ANNA}
    await again.devices_checked(check(ANNA, "NEWPHONE"), AT + timedelta(hours=1))
    assert len(await staff_notices(again, "staff_unsigned_devices")) == 1


async def test_the_gauge_counts_on_duty_staff_with_unsigned_devices() -> None:
    metrics = CounselMetrics(FakeClock(AT))
    c = await conductor(metrics=metrics)
    await c.devices_checked(check(ANNA, "NEWPHONE"), AT)
    assert _gauge(metrics) == 0  # not on duty yet
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a"), "!duty on", AT)
    assert _gauge(metrics) == 1
    await c.devices_checked(check(ANNA), AT)
    assert _gauge(metrics) == 0


def _gauge(metrics: CounselMetrics) -> float:
    for line in metrics.render().decode().splitlines():
        if line.startswith("counsel_on_duty_unverified_devices "):
            return float(line.split()[1])
    raise AssertionError("gauge missing")


def test_the_configured_mode_reaches_the_policy() -> None:
    assert policy_from(Settings(staff=StaffSettings(unsigned_devices="refuse"))) \
        .refuse_unsigned_devices
    assert not policy_from(Settings()).refuse_unsigned_devices


async def test_a_counsellor_on_duty_with_no_device_left_goes_off_duty() -> None:
    c = await conductor()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", AT)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$on-ben"), "!duty on", AT)
    gone = DeviceTrustCheck(ANNA, has_identity=False, unsigned_devices=(), devices=0)
    await c.devices_checked(gone, AT + timedelta(minutes=1))
    anna = c.router.counsellor(ANNA)
    assert anna is not None
    assert not anna.on_duty
    [told] = await staff_notices(c, "staff_no_devices_off_duty")
    assert dict(told.params) == {"counsellor": ANNA}
    await c.devices_checked(gone, AT + timedelta(minutes=2))  # already off: said once
    assert len(await staff_notices(c, "staff_no_devices_off_duty")) == 1
    # A check that did not count devices, or found some, leaves duty alone.
    await c.devices_checked(check(BEN), AT + timedelta(minutes=3))
    await c.devices_checked(DeviceTrustCheck(BEN, True, (), devices=2), AT)
    ben = c.router.counsellor(BEN)
    assert ben is not None
    assert ben.on_duty


def vouched(user: UserID, identity: str, *signed: str, unsigned: tuple[str, ...] = ()
            ) -> DeviceTrustCheck:
    return DeviceTrustCheck(user, has_identity=True, unsigned_devices=unsigned,
                            devices=len(signed) + len(unsigned), identity=identity,
                            signed_devices=signed)


async def test_a_replaced_cross_signing_identity_is_told_in_the_staff_room() -> None:
    """A stolen password is enough to reset a counsellor's cross-signing identity and sign
    one's own session with it. Before, that session simply counted as verified, and the
    staff room at most heard that the counsellor's own sessions were not."""
    store = MemoryStore(AeadSealer())
    c = await conductor(store=store)
    await c.devices_checked(vouched(ANNA, "MASTER1", "PHONE"), AT)
    assert await outbox(c) == []  # the first identity seen is remembered quietly

    again = await conductor(store=store)  # remembered across a restart
    await again.devices_checked(
        vouched(ANNA, "MASTER2", "STRANGER", unsigned=("PHONE",)), AT + timedelta(minutes=1))
    [told] = await staff_notices(again, "staff_identity_changed")
    assert dict(told.params) == {"counsellor": ANNA, "devices": "STRANGER"}
    assert told.mentions == (ANNA,)
    assert again.router.unsigned == {ANNA}  # her own sessions are unsigned now

    await again.devices_checked(
        vouched(ANNA, "MASTER2", "STRANGER", unsigned=("PHONE",)), AT + timedelta(minutes=2))
    assert len(await staff_notices(again, "staff_identity_changed")) == 1


LEA = UserID("@lea:x")


async def refusing_with_a_youth() -> tuple[Conductor, ConversationID]:
    """``unsigned_devices = "refuse"``, Anna on duty with a youth's conversation, Lea lead."""
    staff = StaffSettings(counsellors=(ANNA,), team_leads=(LEA,), default_capacity=1,
                          unsigned_devices="refuse")
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()),
                             policy_from(Settings(staff=staff)), AT)
    await c.sync_roster(AT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", AT)
    await c.youth_wrote(RoomID("!y:x"), UserID("@y:x"), None, EventID("$y"), "hallo", AT)
    record = await c.store.conversation_by_room(RoomID("!y:x"))
    assert record is not None
    return c, record.conversation


async def test_a_lead_with_an_unsigned_session_may_not_read_along_when_so_configured() -> None:
    """``unsigned_devices = "refuse"`` keeps youths' keys from sessions nobody verified: a
    counsellor with one goes on no duty. A team lead with one could still "!supervise" a
    conversation: invited into the youth's room, their unverified session got the room's
    keys and the transcript. Refused as "!duty on" is, until verified; ending works."""
    lea = LEA
    c, conversation = await refusing_with_a_youth()
    await c.devices_checked(check(lea, "NEWPHONE"), AT)
    await c.staff_wrote(STAFF_ROOM, lea, EventID("$sup"), f"!supervise {conversation}",
                        AT)
    assert not c.supervision.is_reading(conversation, lea)
    [refused] = [e for e in await outbox(c)
                 if isinstance(e, SayInRoom) and e.key.startswith("supervise")]
    assert refused.key == "supervise.unsigned_refused"
    assert dict(refused.params)["devices"] == "NEWPHONE"
    await c.devices_checked(check(lea), AT)
    await c.staff_wrote(STAFF_ROOM, lea, EventID("$sup2"), f"!supervise {conversation}",
                        AT)
    assert c.supervision.is_reading(conversation, lea)


async def test_a_lead_reading_along_who_adds_an_unsigned_session_stops_when_so_configured(
) -> None:
    """``unsigned_devices = "refuse"`` refuses `!supervise` with an unverified session, and
    takes a counsellor who adds one on duty off duty, her youths back to the queue. A lead
    already reading along who logged in on a new, unverified session (or whoever has her
    password) stayed in the youth's room, and that session got the room's keys, the
    youth's next words with them. She stops reading along, the youth told, as when she
    ends it herself."""
    lea = LEA
    c, conversation = await refusing_with_a_youth()
    await c.staff_wrote(STAFF_ROOM, lea, EventID("$sup"), f"!supervise {conversation}", AT)
    assert c.supervision.is_reading(conversation, lea)
    await c.devices_checked(check(lea, "NEWPHONE"), AT + timedelta(minutes=1))
    assert not c.supervision.is_reading(conversation, lea)
    effects = await outbox(c)
    assert Supervise(conversation, lea, end=True) in effects
    assert SayToYouth(conversation, "supervision.ended") in effects


async def test_a_lead_taken_out_twice_for_unsigned_sessions_is_taken_out_twice() -> None:
    """The steps a device check makes have no event of their own: with the routing
    unchanged between two of them, their effects must still not share the outbox's keys,
    or the second reading along's end (and the youth's notice) is taken for a repeat of
    the first and never sent."""
    lea = UserID("@lea:x")
    staff = StaffSettings(counsellors=(ANNA,), team_leads=(lea,), default_capacity=2,
                          unsigned_devices="refuse")
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()),
                             policy_from(Settings(staff=staff)), AT)
    await c.sync_roster(AT)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", AT)
    read = []
    for n in (1, 2):
        await c.youth_wrote(RoomID(f"!y{n}:x"), UserID(f"@y{n}:x"), None, EventID(f"$y{n}"),
                            "hallo", AT)
        record = await c.store.conversation_by_room(RoomID(f"!y{n}:x"))
        assert record is not None
        read.append(record.conversation)
    for n, conversation in enumerate(read):
        later = AT + timedelta(minutes=2 * n + 1)
        await c.devices_checked(check(lea), later)
        await c.staff_wrote(STAFF_ROOM, lea, EventID(f"$sup{n}"), f"!supervise {conversation}",
                            later)
        assert c.supervision.is_reading(conversation, lea)
        await c.devices_checked(check(lea, f"PHONE{n}"), later + timedelta(minutes=1))
        assert not c.supervision.is_reading(conversation, lea)
    effects = await outbox(c)
    for conversation in read:
        assert Supervise(conversation, lea, end=True) in effects
        assert SayToYouth(conversation, "supervision.ended") in effects
