"""An office's own retention_days: its closed conversations go after its period, others
after [retention] closed_days; those from before offices keep the fallback office's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.retention import run_retention
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Router, YouthEnded
from counsel_bot.runtime.offices import retention_by_office
from counsel_bot.store import MemoryStore, NewConversation, Transition, entries_for
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def _closed(store: MemoryStore, router: Router, cid: str, office: str,
                  closed_days_ago: int, now: datetime) -> None:
    conversation = ConversationID(cid)
    for event, new in (
        (ConversationOpened(T0, conversation, office=office),
         (NewConversation(conversation, RoomID(f"!{cid}:x"), UserID(f"@{cid}:x"), None),)),
        (YouthEnded(now - timedelta(days=closed_days_ago), conversation), ()),
    ):
        actions = router.handle(event)
        await store.commit_transition(Transition(
            at=event.at, snapshot=router.snapshot(),
            outbox=entries_for(actions, version=router.version, at=event.at),
            new_conversations=new))


async def test_each_office_keeps_for_its_own_period() -> None:
    settings = settings_from_mapping({
        "retention": {"closed_days": 30},
        "routing": {"fallback_office": "jugend"},
        "offices": [{"id": "familie", "retention_days": 7}, {"id": "schule"},
                    {"id": "jugend", "retention_days": 60}],
    })
    now = T0 + timedelta(days=100)
    store, router = MemoryStore(AeadSealer()), Router()
    await _closed(store, router, "fam-old", "familie", 10, now)   # > 7: goes
    await _closed(store, router, "fam-new", "familie", 5, now)    # < 7: stays
    await _closed(store, router, "sch-mid", "schule", 10, now)    # < 30: stays
    await _closed(store, router, "sch-old", "schule", 40, now)    # > 30: goes
    await _closed(store, router, "jug-mid", "jugend", 40, now)    # < 60: stays
    await _closed(store, router, "legacy", "", 40, now)           # fallback's 60: stays
    admin = FakeAdmin({f"!{c}:x" for c in ("fam-old", "fam-new", "sch-mid", "sch-old",
                                           "jug-mid", "legacy")})
    report = await run_retention(store, admin, now, settings.retention.keep, dry_run=False,
                                 keep_by_office=retention_by_office(settings))
    assert sorted(report.deleted) == ["fam-old", "sch-old"]


async def test_a_removed_offices_conversations_keep_the_fallback_offices_period() -> None:
    """The admin renamed the office "familie" to "eltern" (or took it out): its
    conversations now belong to the fallback office, as the router says (rule 2 in
    core/routing/offices.py), whose agreed period is 7 days. Before, retention kept them
    for [retention] closed_days (30) instead: closed conversations, crisis words and all,
    stayed on the server three weeks longer than the office that now holds them promises.
    An office still configured without a period of its own keeps closed_days."""
    settings = settings_from_mapping({
        "retention": {"closed_days": 30},
        "routing": {"fallback_office": "jugend"},
        "offices": [{"id": "eltern"}, {"id": "jugend", "retention_days": 7}],
    })
    now = T0 + timedelta(days=100)
    store, router = MemoryStore(AeadSealer()), Router()
    await _closed(store, router, "gone-old", "familie", 10, now)  # > 7: goes
    await _closed(store, router, "gone-new", "familie", 5, now)   # < 7: stays
    await _closed(store, router, "elt-mid", "eltern", 10, now)    # < 30: stays
    admin = FakeAdmin({f"!{c}:x" for c in ("gone-old", "gone-new", "elt-mid")})
    report = await run_retention(store, admin, now, settings.retention.keep, dry_run=False,
                                 keep_by_office=retention_by_office(settings))
    assert sorted(report.deleted) == ["gone-old"]
