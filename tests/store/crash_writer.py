"""A routing workload that a test SIGKILLs at random points (run as a subprocess).

Usage: python -m tests.store.crash_writer DB_PATH KEY_HEX EVENTS
Prints the index of each committed event, flushed, so the parent can kill mid-stream.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import nacl.bindings as aead
import nacl.utils

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import (
    ConversationOpened,
    CounsellorOnDuty,
    CrisisRaised,
    Event,
    Role,
    Router,
    StaffAdded,
    YouthEnded,
)
from counsel_bot.store import NewConversation, SqliteStore, Store, Transition, entries_for

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
STAFF = (UserID("@anna:x"), UserID("@ben:x"))
_NONCE = aead.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class KeySealer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = nacl.utils.random(_NONCE)
        return nonce + aead.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, context, nonce, self._key
        )

    def open_sealed(self, sealed: bytes, *, context: bytes) -> bytes:
        return aead.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed[_NONCE:], context, sealed[:_NONCE], self._key
        )


def plan(count: int) -> Iterator[tuple[str, Event, tuple[NewConversation, ...]]]:
    for user in STAFF:
        yield f"$staff-{user}", StaffAdded(T0, user, Role.COUNSELLOR), ()
        yield f"$duty-{user}", CounsellorOnDuty(T0, user), ()
    for i in range(count):
        at = T0 + timedelta(minutes=i)
        cid = ConversationID(f"c{i}")
        new = NewConversation(cid, RoomID(f"!r{i}:x"), UserID(f"@y{i}:x"), f"nick{i}")
        yield f"$open-{i}", ConversationOpened(at, cid), (new,)
        if i % 4 == 1:
            yield f"$crisis-{i}", CrisisRaised(at, cid), ()
        if i % 3 == 2:
            yield f"$end-{i - 2}", YouthEnded(at, ConversationID(f"c{i - 2}")), ()


async def run(store: Store, count: int, report: bool) -> Router:
    router = Router.from_snapshot(await store.load_router_snapshot())
    for n, (event_id, event, opened) in enumerate(plan(count)):
        if await store.is_processed(EventID(event_id)):
            continue
        actions = router.handle(event)
        await store.commit_transition(
            Transition(
                at=event.at,
                snapshot=router.snapshot(),
                event_id=EventID(event_id),
                outbox=entries_for(actions, version=router.version, at=event.at),
                new_conversations=opened,
            )
        )
        if report:
            print(n, flush=True)
    return router


async def main(path: str, key_hex: str, count: int) -> None:
    store = await SqliteStore.open(path, KeySealer(bytes.fromhex(key_hex)))
    try:
        await run(store, count, report=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
