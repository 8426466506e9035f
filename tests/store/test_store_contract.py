"""One contract, three stores: every test here runs against MemoryStore, SqliteStore and
PostgresStore (the latter on the session's throwaway PostgreSQL cluster)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import (
    Assign,
    Close,
    ConversationOpened,
    ConversationState,
    CounsellorOnDuty,
    CrisisRaised,
    Event,
    Priority,
    Role,
    Router,
    StaffAdded,
    Transfer,
    YouthEnded,
)
from counsel_bot.store import (
    IntakeMessage,
    NewConversation,
    OutboxEntry,
    Store,
    StoreConsistencyError,
    Transition,
    action_of,
    entries_for,
)
from tests.store.conftest import AeadSealer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ANNA = UserID("@anna:x")
C1, C2 = ConversationID("c1"), ConversationID("c2")


def new(cid: ConversationID) -> NewConversation:
    return NewConversation(cid, RoomID(f"!room-{cid}:x"), UserID(f"@youth-{cid}:x"), f"Nick {cid}")


async def step(
    store: Store,
    router: Router,
    event: Event,
    event_id: str | None = None,
    opened: tuple[NewConversation, ...] = (),
    intake: tuple[IntakeMessage, ...] = (),
) -> bool:
    actions = router.handle(event)
    return await store.commit_transition(
        Transition(
            at=event.at,
            snapshot=router.snapshot(),
            event_id=None if event_id is None else EventID(event_id),
            outbox=entries_for(actions, version=router.version, at=event.at),
            new_conversations=opened,
            intake=intake,
        )
    )


async def staffed(store: Store) -> Router:
    router = Router()
    await step(store, router, StaffAdded(T0, ANNA, Role.COUNSELLOR))
    await step(store, router, CounsellorOnDuty(T0, ANNA), "$duty")
    return router


async def test_empty_store_has_an_empty_snapshot(store: Store) -> None:
    snapshot = await store.load_router_snapshot()
    assert snapshot.conversations == ()
    assert snapshot.version == 0
    assert await store.pending_outbox() == []


async def test_transition_round_trips_the_router_state(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1, "en"), "$e1", (new(C1),))
    await step(store, router, ConversationOpened(T0, C2), "$e2", (new(C2),))
    await step(store, router, CrisisRaised(T0 + timedelta(minutes=1), C2, 2), "$e3")
    assert await store.load_router_snapshot() == router.snapshot()

    restored = Router.from_snapshot(await store.load_router_snapshot())
    later = Close(T0 + timedelta(minutes=5), ANNA, C1)
    assert restored.handle(later) == router.handle(later)

    record = await store.conversation(C2)
    assert record is not None
    assert record.youth_user_id == UserID("@youth-c2:x")
    assert record.nickname == "Nick c2"
    assert record.priority is Priority.CRISIS
    assert record.state is ConversationState.ASSIGNED
    by_room = await store.conversation_by_room(RoomID("!room-c1:x"))
    assert by_room is not None
    assert by_room.conversation == C1
    assert by_room.assigned_to == ANNA
    assert await store.conversation(ConversationID("nope")) is None


async def test_a_youth_handed_back_still_waits_from_the_hand_back_after_a_restart(
    store: Store,
) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    back = T0 + timedelta(minutes=25)
    await step(store, router, Transfer(back, ANNA, C1, None), "$e2")
    loaded = await store.load_router_snapshot()
    assert loaded == router.snapshot()
    (conv,) = loaded.conversations
    assert (conv.enqueued_at, conv.waiting_since) == (T0, back)


async def test_an_event_is_processed_once(store: Store) -> None:
    router = await staffed(store)
    assert await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    before = await store.load_router_snapshot()
    pending = await store.pending_outbox()
    again = Router.from_snapshot(before)
    # Replaying the same Matrix event after a crash must change nothing.
    assert not await step(store, again, ConversationOpened(T0, C2), "$e1", (new(C2),))
    assert await store.load_router_snapshot() == before
    assert await store.pending_outbox() == pending
    assert await store.is_processed(EventID("$e1"))
    assert not await store.is_processed(EventID("$other"))


async def test_outbox_holds_the_invite_until_done(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    pending = await store.pending_outbox()
    keys = [e.key for e in pending]
    assert "assign:c1:@anna:x:1" in keys
    assigns = [action_of(e) for e in pending if e.key.startswith("assign:")]
    assert assigns == [Assign(C1, ANNA, 1)]
    await store.mark_outbox_done([entry.key for entry in pending], at=T0)
    assert await store.pending_outbox() == []
    # A duplicate key (a replayed intent) is ignored, not resurrected.
    dup = OutboxEntry("assign:c1:@anna:x:1", b"{}", T0)
    await store.commit_transition(Transition(T0, router.snapshot(), outbox=(dup,)))
    assert await store.pending_outbox() == []
    assert await store.prune_outbox(T0 + timedelta(seconds=1)) == len(pending)


async def test_closing_keeps_a_record_for_retention(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, Close(T0 + timedelta(hours=1), ANNA, C1), "$e2")
    record = await store.conversation(C1)
    assert record is not None
    assert record.state is ConversationState.CLOSED
    assert record.closed_at == T0 + timedelta(hours=1)
    assert (await store.load_router_snapshot()).conversations == ()
    assert await store.closed_before(T0 + timedelta(minutes=59)) == []
    assert await store.closed_before(T0 + timedelta(hours=2)) == [C1]
    await store.erase_conversation(C1)
    assert await store.conversation(C1) is None
    assert await store.closed_before(T0 + timedelta(hours=2)) == []


async def test_a_conversation_closed_with_an_unreviewed_flag_is_found_after_it(
    store: Store
) -> None:
    """What a restart needs to page a lead about a flag nobody reviewed or took: C1 waited
    flagged with nobody on duty until the youth ended it; C2 a counsellor had."""
    router = Router()
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, CrisisRaised(T0, C1, severity=3), "$e2")
    await step(store, router, YouthEnded(T0 + timedelta(minutes=1), C1), "$e3")
    await step(store, router, StaffAdded(T0, ANNA, Role.COUNSELLOR), "$e4")
    await step(store, router, CounsellorOnDuty(T0, ANNA), "$e5")
    await step(store, router, ConversationOpened(T0, C2), "$e6", (new(C2),))
    await step(store, router, CrisisRaised(T0, C2, severity=3), "$e7")
    await step(store, router, Close(T0 + timedelta(minutes=1), ANNA, C2), "$e8")
    assert await store.unreviewed_closed_since(T0) == [C1]
    assert await store.unreviewed_closed_since(T0 + timedelta(minutes=2)) == []


async def test_closing_one_conversation_leaves_the_others_open(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, ConversationOpened(T0, C2), "$e2", (new(C2),))
    await step(store, router, Close(T0 + timedelta(hours=1), ANNA, C1), "$e3")
    first, second = await store.conversation(C1), await store.conversation(C2)
    assert first is not None
    assert first.state is ConversationState.CLOSED
    assert second is not None
    assert second.state is not ConversationState.CLOSED


async def test_erasing_removes_every_setting_that_names_the_conversation(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, ConversationOpened(T0, C2), "$e2", (new(C2),))
    mine = {"mailto:c1": "sealed", "crisis:c1": "x", "mailthread:abc": "c1",
            "casecode:def": "c1|2026-04-01", "greeted:!room-c1:x": "1"}
    theirs = {"mailto:c2": "sealed", "mailthread:ghi": "c2", "greeted:!room-c2:x": "1",
              "sync_token": "s1", "casecode:used": ""}
    for key, value in {**mine, **theirs}.items():
        await store.set_setting(key, value)
    await step(store, router, Close(T0 + timedelta(hours=1), ANNA, C1), "$e3")
    await store.erase_conversation(C1)
    for key in mine:
        assert await store.get_setting(key) is None, key
    for key, value in theirs.items():
        assert await store.get_setting(key) == value, key


async def test_erasing_removes_every_setting_that_points_at_the_conversations_room(
    store: Store,
) -> None:
    """A setting whose value is the room (the new room a group's notice opened for a youth
    who had left theirs: ``new_home:<hash of the effect>`` = the room, in which they answer
    the offer) is found by no key: it named the erased conversation's room for good."""
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, ConversationOpened(T0, C2), "$e2", (new(C2),))
    mine = {"new_home:3f2a9c": "!room-c1:x", "moved_from:!next:x": "!room-c1:x|declined"}
    theirs = {"new_home:77b1e0": "!room-c2:x", "group_room:1": "!group:x",
              "moved_from:!other:x": "!room-c10:x"}
    for key, value in {**mine, **theirs}.items():
        await store.set_setting(key, value)
    await step(store, router, Close(T0 + timedelta(hours=1), ANNA, C1), "$e3")
    await store.erase_conversation(C1)
    for key in mine:
        assert await store.get_setting(key) is None, key
    for key, value in theirs.items():
        assert await store.get_setting(key) == value, key


async def test_settings_of_a_transition_are_written_with_it_and_only_once(store: Store) -> None:
    router = Router()
    first = Transition(T0, router.snapshot(), EventID("$e1"), settings=(("casecode:x", "c1|t"),))
    assert await store.commit_transition(first)
    assert await store.get_setting("casecode:x") == "c1|t"
    await store.set_setting("casecode:x", "")  # redeemed
    assert not await store.commit_transition(first)  # a replay changes nothing
    assert await store.get_setting("casecode:x") == ""


async def test_a_setting_a_transition_writes_as_none_is_deleted(store: Store) -> None:
    """Emptied, a key naming a room no conversation is in stayed for good: no erasure finds
    it (`group_crisis.offer_key`). Written and deleted in one transition: deleted."""
    router = Router()
    await store.set_setting("group_offer:!r:x", "when|high")
    await store.set_setting("group_offer:!s:x", "when|high")
    assert await store.commit_transition(Transition(
        T0, router.snapshot(), EventID("$d1"),
        settings=(("group_offer:!r:x", None), ("other:y", "1"), ("other:y", None))))
    assert await store.get_setting("group_offer:!r:x") is None
    assert await store.get_setting("other:y") is None
    assert await store.settings("group_offer:") == [("group_offer:!s:x", "when|high")]


async def test_room_of_names_the_room_without_the_record(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    assert await store.room_of(C1) == RoomID("!room-c1:x")
    assert await store.room_of(C2) is None


async def test_a_conversation_moved_to_another_room_is_found_there_alone(
        store: Store) -> None:
    """Its youth upgraded the room it was in (`room_upgrades.py`): the record, its routing
    and the link written with it go on in the new room; the old one has none."""
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, CrisisRaised(T0, C1, 2), "$e2")
    before = await store.conversation(C1)
    assert before is not None
    await store.move_conversation(C1, RoomID("!moved:x"),
                                  (("moved_from:!moved:x", "!room-c1:x"),))
    assert await store.conversation_by_room(RoomID("!room-c1:x")) is None
    after = await store.conversation_by_room(RoomID("!moved:x"))
    assert after is not None
    assert after.conversation == C1
    assert after.crisis == before.crisis
    assert after.youth_user_id == before.youth_user_id
    assert await store.room_of(C1) == RoomID("!moved:x")
    assert await store.get_setting("moved_from:!moved:x") == "!room-c1:x"


async def test_intake_keeps_order_and_is_idempotent(store: Store) -> None:
    router = await staffed(store)
    first = IntakeMessage(C1, EventID("$m1"), b"hello")
    await step(store, router, ConversationOpened(T0, C1), "$m1", (new(C1),), (first,))
    assert await store.append_intake(IntakeMessage(C1, EventID("$m2"), b"second"), at=T0)
    assert await store.append_intake(IntakeMessage(C1, EventID("$m3"), b"third"), at=T0)
    assert not await store.append_intake(IntakeMessage(C1, EventID("$m2"), b"again"), at=T0)
    items = await store.read_intake(C1)
    assert [(i.ordinal, i.event_id, i.body) for i in items] == [
        (1, "$m1", b"hello"),
        (2, "$m2", b"second"),
        (3, "$m3", b"third"),
    ]
    assert await store.read_intake(C2) == []
    assert await store.delete_intake(C1) == 3
    assert await store.read_intake(C1) == []
    with pytest.raises(StoreConsistencyError):
        await store.append_intake(IntakeMessage(C2, EventID("$m9"), b"x"), at=T0)


async def test_a_closes_intake_goes_only_while_the_conversation_is_closed(store: Store) -> None:
    """What the close's effect deletes: a conversation opened again before that effect ran
    (crisis words after the close) keeps its intake for the counsellor who joins again."""
    router = await staffed(store)
    first = IntakeMessage(C1, EventID("$m1"), b"stress")
    await step(store, router, ConversationOpened(T0, C1), "$m1", (new(C1),), (first,))
    assert await store.delete_closed_intake(C1) == 0  # open
    await step(store, router, Close(T0 + timedelta(minutes=5), ANNA, C1), "$e2")
    await step(store, router, ConversationOpened(T0 + timedelta(minutes=6), C1, assignments=1),
               "$m2", intake=(IntakeMessage(C1, EventID("$m2"), b"crisis words"),))
    assert await store.delete_closed_intake(C1) == 0  # open again
    assert [i.body for i in await store.read_intake(C1)] == [b"stress", b"crisis words"]
    await step(store, router, Close(T0 + timedelta(minutes=9), ANNA, C1), "$e3")
    assert await store.delete_closed_intake(C1) == 2
    assert await store.read_intake(C1) == []
    assert await store.delete_closed_intake(C2) == 0  # no such conversation


async def test_one_intake_message_the_youth_deleted_goes_alone(store: Store) -> None:
    router = await staffed(store)
    first = IntakeMessage(C1, EventID("$m1"), b"ich bin Lena")
    await step(store, router, ConversationOpened(T0, C1), "$m1", (new(C1),), (first,))
    assert await store.append_intake(IntakeMessage(C1, EventID("$m2"), b"stress"), at=T0)
    assert await store.delete_intake_message(C1, EventID("$m1"))
    assert not await store.delete_intake_message(C1, EventID("$m1"))
    assert not await store.delete_intake_message(C2, EventID("$m2"))
    assert [i.body for i in await store.read_intake(C1)] == [b"stress"]


async def test_a_failed_transition_writes_nothing(store: Store) -> None:
    router = await staffed(store)
    before = await store.load_router_snapshot()
    pending = await store.pending_outbox()
    actions = router.handle(ConversationOpened(T0, C1))
    broken = Transition(
        T0,
        router.snapshot(),
        EventID("$e1"),
        entries_for(actions, version=router.version, at=T0),
        new_conversations=(),  # forgot the room: must be refused as a whole
    )
    with pytest.raises(StoreConsistencyError, match="NewConversation"):
        await store.commit_transition(broken)
    assert await store.load_router_snapshot() == before
    assert not await store.is_processed(EventID("$e1"))
    assert await store.pending_outbox() == pending
    # The same transition, complete this time, goes through whole.
    fixed = Transition(T0, router.snapshot(), EventID("$e1"), broken.outbox, (new(C1),))
    assert await store.commit_transition(fixed)
    assert await store.load_router_snapshot() == router.snapshot()


async def test_opening_a_stored_conversation_twice_is_refused(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    with pytest.raises(StoreConsistencyError):
        await store.commit_transition(
            Transition(T0, router.snapshot(), new_conversations=(new(C1),))
        )


async def test_a_second_conversation_in_a_stored_room_is_refused(store: Store) -> None:
    """One room, one conversation: SQLite and PostgreSQL keep room ids unique, so a room's
    closed conversation is opened again, never joined by a new one. The memory store took
    the second, and tests on it passed what refuses in production."""
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, YouthEnded(T0, C1), "$e2")
    router.handle(ConversationOpened(T0, C2))
    with pytest.raises(StoreConsistencyError):
        await store.commit_transition(Transition(
            T0, router.snapshot(),
            new_conversations=(NewConversation(C2, new(C1).room_id, UserID("@other:x")),)))
    assert await store.conversation(C2) is None
    record = await store.conversation_by_room(new(C1).room_id)
    assert record is not None
    assert record.conversation == C1


async def test_settings_round_trip_and_overwrite(store: Store) -> None:
    assert await store.get_setting("sync_token") is None
    await store.set_setting("sync_token", "s1")
    await store.set_setting("sync_token", "s2")
    assert await store.get_setting("sync_token") == "s2"


async def test_processed_events_are_marked_and_pruned(store: Store) -> None:
    assert await store.mark_processed(EventID("$a"), at=T0)
    assert not await store.mark_processed(EventID("$a"), at=T0)
    assert await store.mark_processed(EventID("$b"), at=T0 + timedelta(days=2))
    assert await store.prune_processed(T0 + timedelta(days=1)) == 1
    assert not await store.is_processed(EventID("$a"))
    assert await store.is_processed(EventID("$b"))


async def test_reseal_all_reencrypts_every_value_with_its_context(
    store: Store, sealer: AeadSealer
) -> None:
    router = Router()
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await store.append_intake(IntakeMessage(C1, EventID("$m1"), b"hallo"), at=T0)
    contexts: list[bytes] = []

    def reseal(blob: bytes, context: bytes) -> bytes:
        contexts.append(context)
        return sealer.seal(sealer.open_sealed(blob, context=context), context=context)

    count = await store.reseal_all(reseal)
    assert count == len(contexts) >= 3  # youth id, nickname, intake (+ outbox entries)
    assert [i.body for i in await store.read_intake(C1)] == [b"hallo"]
    record = await store.conversation(C1)
    assert record is not None


async def test_erasure_takes_every_outbox_entry_naming_the_conversation(store: Store) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    await step(store, router, ConversationOpened(T0, C2), "$e2", (new(C2),))
    named = (OutboxEntry("mail:$x:0", b"sealed mail text", T0, C1),
             OutboxEntry("notice:$y:0", b"about c1", T0, C1),
             OutboxEntry("notice:$z:0", b"about c2", T0, C2))
    await store.commit_transition(Transition(T0, router.snapshot(), None, named))
    await store.mark_outbox_done(["mail:$x:0"], at=T0)
    await store.erase_conversation(C1)
    left = {e.key: e.conversation for e in await store.pending_outbox()}
    assert not any(C1 in key or c == C1 for key, c in left.items()), left
    assert left["notice:$z:0"] == C2
    # The done one is gone too: pruning can no longer find it.
    assert await store.prune_outbox(T0 + timedelta(days=1)) == 0
async def test_sealed_settings_are_sealed_listed_deleted_and_erased_with_the_conversation(
    store: Store, sealer: AeadSealer
) -> None:
    router = await staffed(store)
    await step(store, router, ConversationOpened(T0, C1), "$e1", (new(C1),))
    written = Transition(T0, router.snapshot(), EventID("$n1"), sealed_settings=(
        ("note:c1", b"call school"), ("note:c2", b"other"), ("snippet:hi", b"hallo")))
    assert await store.commit_transition(written)
    assert await store.get_sealed_setting("note:c1") == b"call school"
    assert await store.sealed_settings("note:") == [("note:c1", b"call school"),
                                                    ("note:c2", b"other")]
    contexts: list[bytes] = []

    def reseal(blob: bytes, context: bytes) -> bytes:
        contexts.append(context)
        return sealer.seal(sealer.open_sealed(blob, context=context), context=context)

    await store.reseal_all(reseal)
    assert b"setting:note:c1" in contexts
    assert await store.get_sealed_setting("note:c1") == b"call school"
    deleted = Transition(T0, router.snapshot(), EventID("$n2"),
                         sealed_settings=(("snippet:hi", None),))
    assert await store.commit_transition(deleted)
    assert await store.get_sealed_setting("snippet:hi") is None
    await store.erase_conversation(C1)
    assert await store.get_sealed_setting("note:c1") is None
    assert await store.get_sealed_setting("note:c2") == b"other"


async def test_a_plain_setting_moves_into_the_sealed_settings_in_one_step(
    store: Store, sealer: AeadSealer
) -> None:
    """The upgrade of values older versions kept vault-sealed in the plain table."""
    await store.set_setting("mailto:c1", "legacy blob")
    await store.set_setting("mailto_x", "not under the prefix")
    await store.set_setting("forum_post:P-1", "")
    await store.set_setting("mailreply:c1", "older blob")
    await store.set_sealed_setting("mailreply:c1", b"newer thread")
    assert await store.settings("mailto:") == [("mailto:c1", "legacy blob")]

    assert await store.move_to_sealed("mailto:c1", b"anna@example.org")
    assert await store.get_setting("mailto:c1") is None
    assert await store.get_sealed_setting("mailto:c1") == b"anna@example.org"
    assert not await store.move_to_sealed("mailto:c1", b"again")  # moved already
    assert await store.get_sealed_setting("mailto:c1") == b"anna@example.org"
    # Sealed by the store under the setting's own context: rotation reseals it.
    contexts: list[bytes] = []

    def reseal(blob: bytes, context: bytes) -> bytes:
        contexts.append(context)
        return sealer.seal(sealer.open_sealed(blob, context=context), context=context)

    await store.reseal_all(reseal)
    assert b"setting:mailto:c1" in contexts
    # Nothing to keep (a decided forum post): the plain row only goes.
    assert await store.move_to_sealed("forum_post:P-1", None)
    assert await store.get_setting("forum_post:P-1") is None
    assert await store.get_sealed_setting("forum_post:P-1") is None
    # A sealed value written since is newer than the plain one: kept.
    assert await store.move_to_sealed("mailreply:c1", b"older thread")
    assert await store.get_sealed_setting("mailreply:c1") == b"newer thread"
    assert await store.get_setting("mailreply:c1") is None
    assert await store.get_setting("mailto_x") == "not under the prefix"
