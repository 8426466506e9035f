"""CounselMetrics: every metric moves, labels stay in fixed sets, the stock parser reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis.lexicon import CATEGORIES, SEVERITIES
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    CapacitySet,
    Channel,
    Close,
    ConversationOpened,
    CounsellorOnDuty,
    CrisisRaised,
    Event,
    Role,
    Router,
    StaffAdded,
    Transfer,
)
from counsel_bot.core.today import DayCount
from counsel_bot.metrics import (
    CHANNELS,
    FLAG_SOURCES,
    OUTCOMES,
    PRIORITIES,
    REVIEW_SOURCES,
    SCORES,
    UNNAMED,
    CounselMetrics,
    MetricsLabelError,
    record_routing,
    safe_nickname,
    severity_name,
)
from counsel_bot.runtime.service import DEMO_ACCOUNTS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANNA = UserID("@anna.k:counsel.localhost")
BEN = UserID("@ben:counsel.localhost")
LEAD = UserID("@lead:counsel.localhost")
NICKNAMES = {ANNA: "anna", BEN: "ben"}


def samples(metrics: CounselMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: CounselMetrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def busy_router(at: datetime) -> Router:
    """Two counsellors on duty with capacity 1, three youths: one waits, one in crisis."""
    router = Router()
    for user in (ANNA, BEN):
        router.handle(StaffAdded(at, user, Role.COUNSELLOR))
        router.handle(CounsellorOnDuty(at, user))
    router.handle(StaffAdded(at, LEAD, Role.TEAM_LEAD))
    ids = ["C-00000001", "C-00000002", "C-00000003", "C-00000004", "C-00000005"]
    channels = [Channel.CHAT, Channel.CHAT, Channel.CHAT, Channel.MAIL, Channel.CHAT]
    for minute, (cid, channel) in enumerate(zip(ids, channels, strict=True)):
        router.handle(ConversationOpened(at + timedelta(minutes=minute), ConversationID(cid),
                                         "de", channel))
    # Default capacity 2 each: four are assigned, the fifth waits; flag the waiting one.
    router.handle(CrisisRaised(at + timedelta(minutes=6), ConversationID("C-00000005"), 3))
    return router


def test_gauges_follow_the_router_snapshot() -> None:
    metrics = CounselMetrics(FakeClock(T0))
    router = busy_router(T0)
    now = T0 + timedelta(minutes=10)
    metrics.refresh_from_snapshot(router.snapshot(), NICKNAMES, now)

    assert value(metrics, "counsel_queue_length", priority="crisis", channel="chat") == 1
    assert value(metrics, "counsel_queue_length", priority="normal", channel="chat") == 0
    assert value(metrics, "counsel_queue_length", priority="normal", channel="mail") == 0
    # C-00000005 was opened at minute 4 and still waits at minute 10.
    assert value(metrics, "counsel_queue_longest_wait_seconds", priority="crisis") == 360
    assert value(metrics, "counsel_counsellors_on_duty") == 2
    assert value(metrics, "counsel_capacity_free") == 0
    assert value(metrics, "counsel_open_conversations", counsellor="anna") == 2
    assert value(metrics, "counsel_open_conversations", counsellor="ben") == 2
    assert value(metrics, "counsel_crisis_flags_open", severity="high") == 1
    assert value(metrics, "counsel_crisis_flags_open", severity="low") == 0


def test_the_longest_wait_of_a_youth_handed_back_counts_from_the_hand_back() -> None:
    # C-00000001 talked with Anna from minute 0 and is back in the queue from minute 8:
    # at minute 10 it has waited two minutes, not ten (an alert on the wait would page
    # a lead for a youth who was being counselled all along).
    metrics = CounselMetrics(FakeClock(T0))
    router = busy_router(T0)
    router.handle(CapacitySet(T0 + timedelta(minutes=7), ANNA, 1))  # C-00000005 waits on
    router.handle(Transfer(T0 + timedelta(minutes=8), ANNA, ConversationID("C-00000001"), None))
    metrics.refresh_from_snapshot(router.snapshot(), NICKNAMES, T0 + timedelta(minutes=10))
    assert value(metrics, "counsel_queue_longest_wait_seconds", priority="normal") == 120
    assert value(metrics, "counsel_queue_longest_wait_seconds", priority="crisis") == 360


def test_on_duty_staff_with_unverified_devices_are_counted_without_a_label() -> None:
    metrics = CounselMetrics(FakeClock(T0))
    snapshot = busy_router(T0).snapshot()
    metrics.refresh_from_snapshot(snapshot, NICKNAMES, T0)
    assert value(metrics, "counsel_on_duty_unverified_devices") == 0
    # LEAD is off duty: an unverified device of someone off duty counts for nothing.
    metrics.refresh_from_snapshot(snapshot, NICKNAMES, T0, unsigned=frozenset({ANNA, LEAD}))
    assert value(metrics, "counsel_on_duty_unverified_devices") == 1
    rendered = metrics.render().decode()
    line = next(x for x in rendered.splitlines() if x.startswith("counsel_on_duty_unverified"))
    assert "{" not in line


def test_counsellor_series_of_someone_gone_disappears() -> None:
    metrics = CounselMetrics(FakeClock(T0))
    metrics.refresh_from_snapshot(busy_router(T0).snapshot(), NICKNAMES, T0)
    metrics.refresh_from_snapshot(Router().snapshot(), NICKNAMES, T0)
    names = {labels for (name, labels) in samples(metrics) if name == "counsel_open_conversations"}
    assert names == set()


def test_counsellor_label_off_aggregates() -> None:
    metrics = CounselMetrics(FakeClock(T0), counsellor_label=False)
    metrics.refresh_from_snapshot(busy_router(T0).snapshot(), NICKNAMES, T0)
    assert value(metrics, "counsel_open_conversations") == 4
    assert "counsellor=" not in metrics.render().decode()


def test_every_event_metric_moves() -> None:
    metrics = CounselMetrics(FakeClock(T0))
    before = samples(metrics)
    metrics.opened("chat")
    metrics.assigned(timedelta(seconds=90))
    metrics.first_reply(timedelta(seconds=40))
    metrics.crisis_flagged("self_harm", "medium", "model")
    metrics.crisis_reviewed("self_harm", "dismissed", "model")
    metrics.escalated()
    metrics.mail_deadline_breached()
    metrics.closed("mail")
    metrics.feedback(4)
    after = samples(metrics)
    moved = {
        ("counsel_conversations_opened_total", (("channel", "chat"),)),
        ("counsel_wait_to_assignment_seconds_count", ()),
        ("counsel_first_reply_seconds_count", ()),
        ("counsel_crisis_flags_total", (("category", "self_harm"), ("severity", "medium"),
                                        ("source", "model"))),
        ("counsel_crisis_reviews_total", (("category", "self_harm"), ("outcome", "dismissed"),
                                          ("source", "model"))),
        ("counsel_escalations_total", ()),
        ("counsel_mail_deadline_breaches_total", ()),
        ("counsel_conversations_closed_total", (("channel", "mail"),)),
        ("counsel_feedback_total", (("score", "4"),)),
    }
    for key in moved:
        assert after[key] == before[key] + 1, key
    bucket = ("counsel_wait_to_assignment_seconds_bucket", (("le", "120.0"),))
    assert after[bucket] == 1


def test_today_gauges_move_with_what_a_step_counts() -> None:
    """The "Today" gauges follow `count_today` (what a committed step carries), not the
    event methods: those run after the commit, the day's tally is written with it."""
    metrics = CounselMetrics(FakeClock(T0))
    before = samples(metrics)
    metrics.count_today(DayCount(opened=1, closed=1, crisis_flags=1, deadline_breaches=1,
                                 waits=(90.0,)))
    after = samples(metrics)
    for name in ("opened", "closed", "crisis_flags", "deadline_breaches", "assigned"):
        key = (f"counsel_today_{name}", ())
        assert after[key] == before[key] + 1, key
    assert after[("counsel_today_median_wait_seconds", ())] == 90


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        ("opened", "sms"),
        ("closed", "@room:server"),
        ("crisis_flagged", ("boredom", "high", "rule")),
        ("crisis_flagged", ("suicide", "extreme", "rule")),
        ("crisis_flagged", ("suicide", "high", "unknown")),  # a flag is raised by someone
        ("crisis_reviewed", ("suicide", "ignored", "rule")),
        ("crisis_reviewed", ("suicide", "confirmed", "counsellor")),
        ("feedback", 6),
        ("feedback", 0),
        ("feedback", True),
    ],
)
def test_values_outside_the_fixed_sets_are_refused(call: str, arg: object) -> None:
    metrics = CounselMetrics(FakeClock(T0))
    args = arg if isinstance(arg, tuple) else (arg,)
    with pytest.raises(MetricsLabelError):
        getattr(metrics, call)(*args)


def test_today_rolls_over_at_local_midnight() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    clock = FakeClock(datetime(2026, 3, 2, 23, 30, tzinfo=berlin))
    metrics = CounselMetrics(clock, day_zone=berlin)
    metrics.count_today(DayCount(opened=1, waits=(240.0, 600.0)))
    metrics.count_today(DayCount(waits=(120.0,)))
    assert metrics.today().opened == 1
    assert metrics.today().median_wait_seconds == 240
    clock.advance(timedelta(minutes=45))
    today = metrics.today()
    assert (today.opened, today.median_wait_seconds) == (0, None)
    assert value(metrics, "counsel_today_opened") == 0


def test_severity_ranks_map_to_words() -> None:
    assert [severity_name(r) for r in (3, 2, 1)] == ["high", "medium", "low"]
    assert severity_name(0) == "low"
    assert severity_name(9) == "high"


# --- label safety ------------------------------------------------------------------------

HOSTILE_NICKNAMES = {
    ANNA: "@anna.k:counsel.localhost",
    BEN: "!roomid:counsel.localhost",
    LEAD: "ich will nicht mehr leben",
}
ALLOWED_VALUES = {
    "priority": set(PRIORITIES),
    "channel": set(CHANNELS),
    "category": set(CATEGORIES),
    "severity": set(SEVERITIES),
    "outcome": set(OUTCOMES),
    "source": set(REVIEW_SOURCES),
    "score": {str(s) for s in SCORES},
    "counsellor": {"anna", "ben", UNNAMED},
    "urgent": {"true", "false"},
}


def exercised(metrics: CounselMetrics, nicknames: dict[UserID, str]) -> Iterator[str]:
    router = busy_router(T0)
    metrics.refresh_from_snapshot(router.snapshot(), nicknames, T0 + timedelta(hours=1))
    for category in CATEGORIES:
        for severity in SEVERITIES:
            for source in FLAG_SOURCES:
                metrics.crisis_flagged(category, severity, source)
        for outcome in OUTCOMES:
            for source in REVIEW_SOURCES:
                metrics.crisis_reviewed(category, outcome, source)
    for channel in CHANNELS:
        metrics.opened(channel)
        metrics.closed(channel)
    for score in SCORES:
        metrics.feedback(score)
    metrics.assigned(timedelta(minutes=3))
    metrics.first_reply(timedelta(minutes=1))
    metrics.escalated()
    metrics.mail_deadline_breached()
    yield metrics.render().decode()
    yield from (c.conversation for c in router.snapshot().conversations)


@pytest.mark.parametrize("nicknames", [NICKNAMES, HOSTILE_NICKNAMES, {}])
@pytest.mark.parametrize("label", [True, False])
def test_labels_come_only_from_fixed_sets(nicknames: dict[UserID, str], label: bool) -> None:
    metrics = CounselMetrics(FakeClock(T0), counsellor_label=label)
    text, *conversation_ids = exercised(metrics, nicknames)
    families = list(text_string_to_metric_families(text))
    assert families, "the stock parser read nothing"
    for family in families:
        assert family.name.startswith("counsel_"), family.name
        for sample in family.samples:
            assert sample.name.startswith("counsel_"), sample.name
            for key, val in sample.labels.items():
                if key in ("le", "quantile"):
                    continue
                assert val in ALLOWED_VALUES[key], (sample.name, key, val)
                assert not any(ch in val for ch in "@!: "), (sample.name, key, val)
    for secret in (*conversation_ids, ANNA, BEN, LEAD, "!roomid", "leben"):
        assert secret not in text


@given(st.text(max_size=80) | st.text(alphabet="Mia (Beraterin)@:!#\n", max_size=40))
def test_any_nickname_becomes_a_safe_label(nickname: str) -> None:
    label = safe_nickname(nickname)
    assert label in (UNNAMED, nickname)
    assert len(label) <= 32
    assert not any(ch in label for ch in "@!:#\n\t\"\\{}")
    # A name of a few words, never a sentence: one space between words, at most three.
    assert label == label.strip()
    assert "  " not in label
    assert len(label.split(" ")) <= 3


# The demo staff's display names (`counsel up`) and names staff choose: an outside test saw
# the demo counsellor "Mia (Beraterin)" as "unnamed" on the dashboard and in /metrics.
DEMO_STAFF_NAMES = [name for role, _, name in DEMO_ACCOUNTS if role != "youth"]


@pytest.mark.parametrize("name", [*DEMO_STAFF_NAMES, "Zoë Adeyemi", "Dr. Eva Schmidt",
                                  "O'Brien", "anna.k", "Ben-Luca", "Şule"])
def test_ordinary_staff_names_are_labels(name: str) -> None:
    assert safe_nickname(name) == name


@pytest.mark.parametrize("name", [
    "@beraterin-demo:counsel.localhost",  # no display name: the bot falls back to the id
    "Mia (Beraterin) (@beraterin-demo:counsel.localhost)",  # nio: two staff, one name
    "!roomid:counsel.localhost", "#staff:counsel.localhost",
    "ich will nicht mehr leben",  # a sentence is not a name
    "Mia  (Beraterin)", " Mia", "Mia\n", "M" * 33, "", "()",
])
def test_ids_and_sentences_are_not_labels(name: str) -> None:
    assert safe_nickname(name) == UNNAMED


def test_registries_are_separate() -> None:
    one, two = CounselMetrics(FakeClock(T0)), CounselMetrics(FakeClock(T0))
    one.escalated()
    assert value(one, "counsel_escalations_total") == 1
    assert value(two, "counsel_escalations_total") == 0


def test_record_routing_counts_openings_first_assignments_and_closings() -> None:
    metrics = CounselMetrics(FakeClock(T0))
    router = Router()

    def handle(event: Event) -> None:
        before = router.snapshot()
        record_routing(metrics, event, router.handle(event), before)

    first, second = ConversationID("C-0000000A"), ConversationID("C-0000000B")
    handle(StaffAdded(T0, ANNA, Role.COUNSELLOR))
    handle(CounsellorOnDuty(T0, ANNA))
    handle(CapacitySet(T0, ANNA, 1))
    handle(ConversationOpened(T0, first))
    handle(ConversationOpened(T0 + timedelta(minutes=1), second))
    handle(ConversationOpened(T0 + timedelta(minutes=1), second))  # a duplicate is no opening
    handle(Close(T0 + timedelta(minutes=10), ANNA, first))  # frees Anna: second assigned
    handle(Transfer(T0 + timedelta(minutes=11), ANNA, second, None))
    handle(StaffAdded(T0 + timedelta(minutes=12), BEN, Role.COUNSELLOR))
    handle(CounsellorOnDuty(T0 + timedelta(minutes=12), BEN))  # a reassignment, not a wait

    reassigned = router.conversation(second)
    assert reassigned is not None
    assert reassigned.assigned_to == BEN
    assert value(metrics, "counsel_conversations_opened_total", channel="chat") == 2
    assert value(metrics, "counsel_conversations_closed_total", channel="chat") == 1
    assert value(metrics, "counsel_wait_to_assignment_seconds_count") == 2
    assert value(metrics, "counsel_wait_to_assignment_seconds_sum") == 9 * 60


def test_instance_role_and_failovers() -> None:
    metrics = CounselMetrics(FakeClock(T0))
    assert value(metrics, "counsel_instance_active") == 0
    assert value(metrics, "counsel_failovers_total") == 0
    # A bot that took over as the third failover of its database, then hears the count again.
    metrics.instance_role(active=True, failovers=3)
    metrics.instance_role(active=True, failovers=3)
    assert value(metrics, "counsel_instance_active") == 1
    assert value(metrics, "counsel_failovers_total") == 3
    metrics.instance_role(active=False)
    assert value(metrics, "counsel_instance_active") == 0
    assert value(metrics, "counsel_failovers_total") == 3
