"""The retention executor on the memory store and a fake homeserver."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.conversation.retention import RetentionError, run_retention
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Router
from counsel_bot.store import MemoryStore, NewConversation, Store, StoreBusyError, Transition
from homeserver_bridge.errors import AdminApiError
from tests.retention.conftest import FakeAdmin, closed_conversation
from tests.store.conftest import AeadSealer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
OLD, OLDER, YOUNG, OPEN = (ConversationID(c) for c in ("C-0000000A", "C-0000000B",
                                                          "C-0000000C", "C-0000000D"))


def room(cid: ConversationID) -> RoomID:
    return RoomID(f"!room-{cid}:secret.example")


def youth(cid: ConversationID) -> UserID:
    return UserID(f"@youth-{cid}:secret.example")


class Pauses:
    def __init__(self) -> None:
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


async def populated() -> tuple[MemoryStore, FakeAdmin]:
    """OLD and OLDER closed beyond the period, YOUNG closed within it, OPEN still open."""
    store = MemoryStore(AeadSealer())
    router = Router()
    admin = FakeAdmin()
    for cid, closed_days_ago in ((OLD, 31), (OLDER, 60), (YOUNG, 5)):
        closed = NOW - timedelta(days=closed_days_ago)
        await closed_conversation(store, router, cid, room(cid), youth(cid),
                                  closed - timedelta(hours=1), closed)
        admin.rooms.add(room(cid))
    opened_at = NOW - timedelta(days=90)
    router.handle(ConversationOpened(opened_at, OPEN))
    await store.commit_transition(Transition(
        at=opened_at,
        snapshot=router.snapshot(),
        new_conversations=(NewConversation(OPEN, room(OPEN), youth(OPEN)),),
    ))
    admin.rooms.add(room(OPEN))
    return store, admin


async def present(store: Store, *cids: ConversationID) -> bool:
    return all([await store.conversation(c) is not None for c in cids])


async def absent(store: Store, *cids: ConversationID) -> bool:
    return all([await store.conversation(c) is None for c in cids])


async def test_expired_conversations_are_purged_then_erased() -> None:
    store, admin = await populated()
    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, pause=Pauses())
    assert report.planned == (OLDER, OLD)
    assert report.deleted == (OLDER, OLD)
    assert report.failed == ()
    assert report.complete
    assert admin.calls == [room(OLDER), room(OLD)]
    assert admin.rooms == {room(YOUNG), room(OPEN)}
    assert await absent(store, OLD, OLDER)
    assert await present(store, YOUNG, OPEN)
    assert await store.closed_before(NOW) == [YOUNG]


async def test_a_dry_run_lists_and_deletes_nothing() -> None:
    store, admin = await populated()
    report = await run_retention(store, admin, NOW, KEEP, dry_run=True)
    assert report.dry_run
    assert report.planned == (OLDER, OLD)
    assert report.deleted == ()
    assert admin.calls == []
    assert await present(store, OLD, OLDER, YOUNG, OPEN)
    assert "would be deleted: C-0000000B, C-0000000A" in report.summary()


async def test_a_second_run_finds_nothing_left() -> None:
    store, admin = await populated()
    await run_retention(store, admin, NOW, KEEP, dry_run=False, pause=Pauses())
    again = await run_retention(store, admin, NOW, KEEP, dry_run=False, pause=Pauses())
    assert again.planned == again.deleted == ()
    assert admin.calls == [room(OLDER), room(OLD)]


async def test_the_young_one_goes_when_the_clock_reaches_it() -> None:
    store, admin = await populated()
    later = NOW + timedelta(days=25, seconds=1)
    report = await run_retention(store, admin, later, KEEP, dry_run=False, pause=Pauses())
    assert report.deleted == (OLDER, OLD, YOUNG)
    assert await present(store, OPEN)


async def test_a_room_already_gone_counts_as_deleted() -> None:
    store, admin = await populated()
    admin.rooms.discard(room(OLD))  # purged by hand, or by a run that crashed before erasing
    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, pause=Pauses())
    assert report.deleted == (OLDER, OLD)
    assert await absent(store, OLD)


async def test_a_failing_purge_is_retried_with_backoff() -> None:
    store, admin = await populated()
    admin.failures[room(OLDER)] = [AdminApiError("busy", status=502),
                                   AdminApiError("busy", status=502)]
    pauses = Pauses()
    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, attempts=3,
                                 retry_delay=1.0, pause=pauses)
    assert report.deleted == (OLDER, OLD)
    assert pauses.waited == [1.0, 2.0]
    assert admin.calls == [room(OLDER)] * 3 + [room(OLD)]


async def test_a_conversation_that_keeps_failing_is_kept_and_the_others_go_on() -> None:
    store, admin = await populated()
    admin.failures[room(OLDER)] = [AdminApiError("down", status=0) for _ in range(5)]
    pauses = Pauses()
    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, attempts=3,
                                 pause=pauses)
    assert report.failed == (OLDER,)
    assert report.deleted == (OLD,)
    assert not report.complete
    assert len(pauses.waited) == 2  # no pause after the last attempt
    # Not erased: the row is what lets the next run find the room again.
    assert await present(store, OLDER)
    assert "1 failed and will be retried" in report.summary()
    retry = await run_retention(store, admin, NOW, KEEP, dry_run=False, pause=pauses)
    assert retry.deleted == (OLDER,)
    assert room(OLDER) not in admin.rooms


class EraseFailsOnce(MemoryStore):
    """A store whose erase fails once, like a crash between purge and erase."""

    def __init__(self) -> None:
        super().__init__(AeadSealer())
        self.erase_failures = 1

    async def erase_conversation(self, conversation: ConversationID) -> None:
        if self.erase_failures:
            self.erase_failures -= 1
            raise StoreBusyError("the database stayed locked")
        await super().erase_conversation(conversation)


async def test_the_store_is_erased_only_after_the_purge_and_a_failed_erase_purges_again() -> None:
    store = EraseFailsOnce()
    router = Router()
    admin = FakeAdmin(rooms={room(OLD)})
    closed = NOW - timedelta(days=40)
    await closed_conversation(store, router, OLD, room(OLD), youth(OLD), closed, closed)
    admin.failures[room(OLD)] = [AdminApiError("down", status=0)]
    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, attempts=1)
    assert report.failed == (OLD,)
    assert store.erase_failures == 1  # the purge failed, so erase was never tried
    assert await present(store, OLD)

    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, attempts=2,
                                 pause=Pauses())
    # Attempt 1 purged but could not erase; attempt 2 purges again (gone: done) and erases.
    assert report.deleted == (OLD,)
    assert admin.calls == [room(OLD)] * 3
    assert await absent(store, OLD)


async def test_logs_and_report_name_no_room_or_youth(caplog: pytest.LogCaptureFixture) -> None:
    store, admin = await populated()
    quoting = AdminApiError(f"refused: Purge already in progress for {room(OLD)}", status=400)
    admin.failures[room(OLD)] = [quoting]
    caplog.set_level(logging.DEBUG, logger="counsel_bot.conversation.retention")
    report = await run_retention(store, admin, NOW, KEEP, dry_run=False, pause=Pauses())
    await run_retention(store, admin, NOW + KEEP, KEEP, dry_run=True)
    assert report.deleted == (OLDER, OLD)
    text = "\n".join(r.getMessage() for r in caplog.records) + report.summary() + repr(report)
    assert "C-0000000A" in text
    assert "secret.example" not in text
    assert "progress" not in text
    assert "Nick" not in text


async def test_bad_arguments_are_refused() -> None:
    store, admin = await populated()
    with pytest.raises(RetentionError):
        await run_retention(store, admin, NOW, KEEP, dry_run=False, attempts=0)
    with pytest.raises(RetentionError):
        await run_retention(store, admin, NOW.replace(tzinfo=None), KEEP, dry_run=False)
