"""Per-office metrics (office_metrics.py), fed from the router's own steps (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    ConversationOpened,
    CounsellorOnDuty,
    Event,
    OfficeChosen,
    Role,
    Router,
    RouterConfig,
    StaffAdded,
    Take,
    Transfer,
    TransferToOffice,
)
from counsel_bot.core.routing.offices import UNDECIDED, OfficeRules
from counsel_bot.office_metrics import UNDECIDED_LABEL, OfficeMetrics

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ANNA, BEN, CEM = (UserID(f"@{n}:x") for n in ("anna", "ben", "cem"))
RULES = OfficeRules(("family", "school", "general"),
                    {ANNA: frozenset({"family"}), BEN: frozenset({"school"}),
                     CEM: frozenset({"general"})},
                    fallback="general", on_call="general")
C1 = ConversationID("C-0000000A")


def _waits(registry: CollectorRegistry, office: str) -> float:
    value = registry.get_sample_value("counsel_office_wait_to_assignment_seconds_count",
                                      {"office": office})
    return 0.0 if value is None else value


def _step(router: Router, metrics: OfficeMetrics, event: Event) -> None:
    """What the conductor does with each event: the router moves, the metrics count."""
    before = router.snapshot()
    metrics.routed(event, router.handle(event), before)


def _setup() -> tuple[Router, OfficeMetrics, CollectorRegistry]:
    router = Router(RouterConfig(offices=RULES))
    for user in (ANNA, BEN, CEM):
        router.handle(StaffAdded(T0, user, Role.COUNSELLOR))
    registry = CollectorRegistry()
    return router, OfficeMetrics(RULES, registry), registry


def test_the_wait_of_a_youth_who_named_the_office_counts_for_that_office() -> None:
    """The youth did not say at once what it is about, waited 10 minutes for the one
    question, answered "school" and was given to Ben in that step: school's wait, not
    "undecided"'s (an undecided youth is given to nobody automatically)."""
    router, metrics, registry = _setup()
    router.handle(CounsellorOnDuty(T0, BEN))
    _step(router, metrics, ConversationOpened(T0, C1, office=UNDECIDED))
    _step(router, metrics, OfficeChosen(T0 + timedelta(minutes=10), C1, "school"))
    assert router.conversation(C1) is not None
    assert (_waits(registry, "school"), _waits(registry, UNDECIDED_LABEL)) == (1.0, 0.0)


def test_the_wait_of_a_youth_moved_to_another_office_counts_for_that_office() -> None:
    """Family's counsellor (off duty) moves a waiting youth to school, where Ben takes them
    in that step: school's wait."""
    router, metrics, registry = _setup()
    router.handle(CounsellorOnDuty(T0, BEN))
    _step(router, metrics, ConversationOpened(T0, C1, office="family"))  # anna is off duty
    _step(router, metrics, TransferToOffice(T0 + timedelta(minutes=5), ANNA, C1, "school"))
    assert (_waits(registry, "school"), _waits(registry, "family")) == (1.0, 0.0)



def test_an_offices_longest_wait_counts_from_the_hand_back() -> None:
    router, metrics, registry = _setup()
    router.handle(CounsellorOnDuty(T0, ANNA))
    _step(router, metrics, ConversationOpened(T0, C1, office="family"))
    _step(router, metrics, Transfer(T0 + timedelta(minutes=30), ANNA, C1, None))
    metrics.refresh(router.snapshot(), T0 + timedelta(minutes=33))
    assert registry.get_sample_value("counsel_office_queue_longest_wait_seconds",
                                     {"office": "family"}) == 180


def test_the_wait_of_an_undecided_youth_taken_by_hand_counts_for_the_takers_office() -> None:
    """A youth who has not answered the office question yet is taken by hand (the fallback
    office's staff may, rule 3): the conversation is the taker's office's from then on
    (`settled_for`), and so is its wait, not "undecided"'s, which no office's lead reads."""
    router, metrics, registry = _setup()
    router.handle(CounsellorOnDuty(T0, CEM))
    _step(router, metrics, ConversationOpened(T0, C1, office=UNDECIDED))
    _step(router, metrics, Take(T0 + timedelta(minutes=2), CEM, C1))
    current = router.conversation(C1)
    assert current is not None
    assert current.assigned_to == CEM
    assert (_waits(registry, "general"), _waits(registry, UNDECIDED_LABEL)) == (1.0, 0.0)
