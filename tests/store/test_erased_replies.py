"""Erasure takes every outbox entry naming the conversation (done or pending), the replies to
staff commands too: the router's replies name a conversation as ``id`` ("Krisenhinweis
C-… bestätigt", "C-… ist nicht deins", an office transfer), as do the supervision replies.
The real conductor on a SQLite store; every sealed payload left is opened and read."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayInRoom, conversation_named
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import SqliteStore
from counsel_bot.store.contract import outbox_context
from tests.store.conftest import AeadSealer

ANNA, BEN, LEAD = UserID("@anna:x"), UserID("@ben:x"), UserID("@lead:x")
STAFF_ROOM, ROOM, YOUTH = RoomID("!staff:x"), RoomID("!room:x"), UserID("@youth:x")
AT = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def test_a_reply_naming_a_conversation_as_id_names_it() -> None:
    cid = ConversationID("C-0BADF00D")
    assert conversation_named(SayInRoom(STAFF_ROOM, ANNA, "crisis.confirmed",
                                        (("id", cid),))) == cid
    # Appointment and forum post ids are no conversations.
    assert conversation_named(SayInRoom(STAFF_ROOM, ANNA, "appointments.unknown",
                                        (("id", "T-0BADF00D"),))) is None


async def test_replies_about_an_erased_conversation_go_with_it(tmp_path: Path) -> None:
    sealer = AeadSealer()
    path = tmp_path / "counsel.db"
    store = await SqliteStore.open(path, sealer)
    try:
        policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA, BEN),
                                                          team_leads=(LEAD,))))
        detector = CrisisDetector.from_directory(default_lexicon_dir())
        c = await Conductor.open(store, detector, policy, AT)
        await c.sync_roster(AT)
        events = iter(range(1, 100))

        async def staff(body: str, who: UserID = ANNA) -> None:
            await c.staff_wrote(STAFF_ROOM, who, EventID(f"$s{next(events)}"), body, AT)

        await staff("!duty on")
        await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "ich will nicht mehr leben", AT)
        record = await store.conversation_by_room(ROOM)
        assert record is not None
        cid = record.conversation
        await staff(f"!confirm {cid}")  # crisis.confirmed, id
        await staff(f"!close {cid}", who=BEN)  # refused.not_yours, id
        await staff(f"!supervise {cid}", who=LEAD)  # a supervision reply, id
        # Pending still (a done entry keeps no payload): erasure must take them all the same.
        await store.erase_conversation(cid)
        raw = sqlite3.connect(path)
        try:
            rows = raw.execute("SELECT key, sealed FROM outbox").fetchall()
        finally:
            raw.close()
        left = [key for key, sealed in rows if sealed  # a done entry's payload is gone
                and cid.encode() in sealer.open_sealed(bytes(sealed),
                                                       context=outbox_context(key))]
        assert left == []
    finally:
        await store.close()
