"""The team lead's "Today" figures over a restart (a deploy, a kill, a failover): an outside
test of a fresh install saw Opened 2 / Closed 2 / Crisis flags 1 become 0 / 0 / 0 when the
bot restarted. The day's tally is written with each step it counts (`today_figures`).

A real SQLite store, closed and opened again; the real rules detector; injected time. The
day is Berlin's (the default opening_hours.timezone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.transition import TODAY_KEY
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import RoomID
from counsel_bot.core.today import TodayFigures
from counsel_bot.metrics import CounselMetrics
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, SqliteStore, Store, StoreError, Transition
from tests.counsel_bot.test_crisis_paths import (
    ANNA,
    CRISIS,
    LEA,
    ROOM,
    conversation_of,
    staff,
    youth,
)
from tests.counsel_bot.test_mail_deadline_restart import MONDAY, channel
from tests.store.conftest import AeadSealer

BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = Settings(staff=StaffSettings(counsellors=(ANNA,), team_leads=(LEA,)))
# 23:40 in Berlin (22:40 UTC): a night shift, twenty minutes before the day ends.
LATE = datetime(2026, 11, 24, 22, 40, tzinfo=UTC)


async def started(store: Store, clock: FakeClock) -> tuple[Conductor, CounselMetrics]:
    """What the runner does at a start: new metrics, a conductor opened on the store."""
    metrics = CounselMetrics(clock, day_zone=BERLIN)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(store, detector, policy_from(SETTINGS), clock.now(),
                             metrics=metrics)
    await c.sync_roster(clock.now())
    return c, metrics


async def a_shift(c: Conductor, clock: FakeClock) -> None:
    """Anna on duty; a youth writes, is given to her at once, raises a flag; she closes."""

    def at(seconds: int) -> datetime:
        clock.set(LATE + timedelta(seconds=seconds))
        return clock.now()

    await staff(c, ANNA, "!duty on", at(0))
    await youth(c, "hallo", at(10))
    await youth(c, CRISIS, at(20))
    await staff(c, ANNA, f"!close {await conversation_of(c, ROOM)}", at(300))


SHIFT = TodayFigures(opened=1, closed=1, crisis_flags=1, median_wait_seconds=0.0, assigned=1)


async def test_todays_figures_survive_a_restart_on_sqlite(tmp_path: Path) -> None:
    clock, sealer = FakeClock(LATE), AeadSealer()  # one key over the restart
    path = tmp_path / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer)
    try:
        c, metrics = await started(store, clock)
        await a_shift(c, clock)
        assert metrics.today() == SHIFT
    finally:
        await store.close()
    clock.set(LATE + timedelta(minutes=10))  # 23:50 in Berlin: the same day
    store = await SqliteStore.open(path, sealer)
    try:
        _, metrics = await started(store, clock)
        assert metrics.today() == SHIFT, "a restart reset today's figures"
        # The day ends at Berlin's midnight, also for figures kept over a restart.
        clock.set(datetime(2026, 11, 24, 23, 0, 1, tzinfo=UTC))  # 00:00:01 in Berlin
        assert metrics.today() == TodayFigures()
    finally:
        await store.close()


async def test_a_start_after_local_midnight_begins_the_new_day_at_zero(tmp_path: Path) -> None:
    """Stopped at 23:45, started at 00:05 in Berlin, still 23:05 on the same UTC day: the
    kept tally is the day before's and shows nothing."""
    clock, sealer = FakeClock(LATE), AeadSealer()  # one key over the restart
    path = tmp_path / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer)
    try:
        c, _ = await started(store, clock)
        await a_shift(c, clock)
    finally:
        await store.close()
    clock.set(datetime(2026, 11, 24, 23, 5, tzinfo=UTC))
    store = await SqliteStore.open(path, sealer)
    try:
        c, metrics = await started(store, clock)
        assert metrics.today() == TodayFigures()
        await youth(c, "hallo", clock.now(), room=RoomID("!another:x"))
        assert metrics.today().opened == 1
    finally:
        await store.close()


class _FailingOnce(MemoryStore):
    """A store whose next commit fails (a full disk), then works again."""

    fail = False

    async def commit_transition(self, transition: Transition) -> bool:
        if self.fail:
            self.fail = False
            raise StoreError("disk full")
        return await super().commit_transition(transition)


async def test_a_step_whose_commit_failed_is_not_counted() -> None:
    """The count is written in the step's transition: a failed commit counts nothing, and
    what the store keeps stays what the dashboard shows."""
    clock = FakeClock(LATE)
    store = _FailingOnce(AeadSealer())
    c, metrics = await started(store, clock)
    await staff(c, ANNA, "!duty on", clock.now())
    store.fail = True
    with pytest.raises(StoreError):
        await youth(c, "hallo", clock.now())
    assert metrics.today() == TodayFigures()
    await youth(c, "hallo", clock.now())
    assert metrics.today().opened == 1
    _, again = await started(store, clock)
    assert again.today() == metrics.today()


async def test_the_kept_tally_holds_counts_only() -> None:
    clock = FakeClock(LATE)
    store = MemoryStore(AeadSealer())
    c, _ = await started(store, clock)
    await a_shift(c, clock)
    kept = await store.get_setting(TODAY_KEY)
    assert kept is not None
    cid = await conversation_of(c, ROOM)
    for secret in (cid, ROOM, ANNA, "umbringen", "hallo"):
        assert secret not in kept


async def test_a_mail_deadline_breach_counts_today_also_after_a_restart() -> None:
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    policy = policy_from(Settings())
    clock = FakeClock(MONDAY)
    metrics = CounselMetrics(clock, day_zone=BERLIN)
    conductor = await Conductor.open(store, detector, policy, MONDAY, metrics=metrics)
    mail = channel(conductor)
    await mail.mail_opened(RoomID("!mail:x"), "mailto:kim@youth.example", "de", MONDAY)
    clock.set(MONDAY + timedelta(days=3))  # long past the deadline, nobody replied
    await mail.tick(clock.now())
    assert metrics.today().deadline_breaches == 1
    again = CounselMetrics(clock, day_zone=BERLIN)
    await Conductor.open(store, detector, policy, clock.now(), metrics=again)
    assert again.today().deadline_breaches == 1
