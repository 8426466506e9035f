"""Open conversations at scale without thousands of E2E youths: written through the bot's
own Store API (sealed, with the router snapshot) before the bot starts, so the bot loads,
keeps and routes around them with its real code.

Seeded conversations are assigned to seeded counsellors who are off duty (a roster entry with
open conversations, as after a shift whose conversations were not handed back); only the
watching counsellor is on duty, so every new youth is routed to them and nothing the bot
does touches a seeded room (their room ids exist only in the store).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.env import PASSPHRASE, SERVER_NAME
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    ConversationState,
    CounsellorSnapshot,
    Role,
    RouterSnapshot,
)
from counsel_bot.store import IntakeMessage, NewConversation, SqliteStore, Transition
from e2e.vault import Vault

INTAKE = "Hallo, ich weiß nicht, mit wem ich sonst reden soll.".encode()


def roster(seeded: Sequence[str], watcher: str, capacity: int) -> tuple[CounsellorSnapshot, ...]:
    people = [CounsellorSnapshot(UserID(u), Role.COUNSELLOR, on_duty=False, capacity=capacity)
              for u in seeded]
    people.append(CounsellorSnapshot(UserID(watcher), Role.COUNSELLOR, on_duty=True,
                                     capacity=capacity))
    return tuple(sorted(people, key=lambda c: c.user))


def conversations(count: int, seeded: Sequence[str], now: datetime) -> list[ConversationSnapshot]:
    return [
        ConversationSnapshot(
            conversation=ConversationID(f"C-{i:08X}"),
            state=ConversationState.ASSIGNED,
            channel=Channel.CHAT,
            language="de",
            enqueued_at=now - timedelta(seconds=count - i),
            seq=i,
            assigned_to=UserID(seeded[i % len(seeded)]),
            assigned_at=now,
            assignments=1,
        )
        for i in range(count)
    ]


async def seed(bot_data: Path, count: int, seeded: Sequence[str], watcher: str,
               capacity: int, rooms: Sequence[tuple[str, str]] = ()) -> None:
    """Write ``count`` open conversations (with one sealed intake message each): in the
    given real (room id, youth) pairs, or else in rooms that exist only in the store."""
    bot_dir = bot_data / "bot"
    bot_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    vault = Vault.open_or_create(bot_dir / "vault.json", PASSPHRASE)
    store = await SqliteStore.open(bot_dir / "counsel.db", vault)
    try:
        now = datetime.now(UTC)
        convs = conversations(count, seeded, now)
        snapshot = RouterSnapshot(conversations=tuple(convs),
                                  counsellors=roster(seeded, watcher, capacity),
                                  next_seq=count, version=1)
        where = list(rooms) or [(f"!seed{i}:{SERVER_NAME}", f"@seed-youth-{i}:{SERVER_NAME}")
                                for i in range(count)]
        new = tuple(
            NewConversation(c.conversation, RoomID(where[i][0]), UserID(where[i][1]),
                            f"Nick {i}")
            for i, c in enumerate(convs)
        )
        intake = tuple(IntakeMessage(c.conversation, EventID(f"$seed-{i}"), INTAKE)
                       for i, c in enumerate(convs))
        await store.commit_transition(Transition(now, snapshot, None, (), new, intake))
    finally:
        await store.close()
