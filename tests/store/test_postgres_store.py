"""What only the PostgreSQL store does: checked on the real PostgreSQL the session starts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import psycopg

from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import (
    Assign,
    ConversationOpened,
    CounsellorOnDuty,
    Role,
    Router,
    StaffAdded,
)
from counsel_bot.store import NewConversation, PostgresStore, Transition
from tests.store.conftest import AeadSealer
from tests.support.postgres import PostgresServer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def row_versions(url: str) -> dict[str, str]:
    """Each counsellor row's xmin: the transaction that last wrote it (insert or update)."""
    with psycopg.connect(url) as db:
        rows = db.execute("SELECT user_id, xmin::text FROM counsellors").fetchall()
    return {user: xmin for user, xmin in rows}


async def test_an_assignment_rewrites_only_the_assigned_counsellors_row(
    postgres: PostgresServer, sealer: AeadSealer
) -> None:
    # With 200 counsellors (20 offices) every first message rewrote all 200 rows.
    url = postgres.new_database()
    store = await PostgresStore.open(url, sealer)
    try:
        router = Router()
        staff = [UserID(f"@c{n}:x") for n in range(5)]
        for user in staff:
            router.handle(StaffAdded(T0, user, Role.COUNSELLOR))
            router.handle(CounsellorOnDuty(T0, user))
        await store.commit_transition(Transition(T0, router.snapshot()))
        before = row_versions(url)
        assert len(before) == len(staff)
        actions = router.handle(ConversationOpened(T0, ConversationID("c0")))
        opened = NewConversation(ConversationID("c0"), RoomID("!r:x"), UserID("@y:x"), None)
        await store.commit_transition(
            Transition(T0, router.snapshot(), new_conversations=(opened,)))
        assigned = next(a.counsellor for a in actions if isinstance(a, Assign))
        after = row_versions(url)
        rewritten = {user for user in after if after[user] != before.get(user)}
        assert rewritten == {assigned}
        assert await store.load_router_snapshot() == router.snapshot()
        # Leaving the roster still removes the row.
        router = Router.from_snapshot(await store.load_router_snapshot())
        gone = next(u for u in staff if u != assigned)
        survivors = tuple(c for c in router.snapshot().counsellors if c.user != gone)
        await store.commit_transition(Transition(
            T0, replace(router.snapshot(), counsellors=survivors)))
        assert gone not in {c.user for c in (await store.load_router_snapshot()).counsellors}
        assert gone not in row_versions(url)
    finally:
        await store.close()
