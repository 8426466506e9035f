"""A youth's invitation whose join the homeserver failed (a 502 from the proxy while Synapse
restarts, a 500 on a busy database): the invitation comes in one sync only, so a bot that
gave up on the first answer never joined, and the youth waiting in their new chat was
answered by nobody until the bot happened to restart (the youth-side review). Now the join
is asked for again; an invitation the youth withdrew (403) is not.

No server: the bot on a fake of nio's client and the executor, sync answers made by nio's
own parser (the shape of test_welcome_after_stop)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nio import JoinError

from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    FakeClient,
    _bot,
    _sync,
)
from tests.store.conftest import AeadSealer


class FailingJoinClient(FakeClient):
    """The first join fails as nio reports a proxy's 502 (no Matrix error in the body)."""

    def __init__(self, first: JoinError) -> None:
        super().__init__()
        self.first: JoinError | None = first
        self.joins = 0

    async def join(self, room_id: str) -> Any:
        self.joins += 1
        if self.first is not None:
            failed, self.first = self.first, None
            return failed
        return await super().join(room_id)


async def test_a_join_the_homeserver_failed_is_asked_for_again() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FailingJoinClient(JoinError.from_dict({})), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    assert client.joins == 1
    # Two minutes of idle long polls: the invitation is not in them again.
    for n in range(2, 26):
        bot.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    assert client.joins == 2, "the youth's invitation was never accepted"
    assert ROOM in client.rooms
    await bot.handle_sync(JOINED)
    # Welcomed as after any join: here, moved to a room fit for counselling.
    assert [c["invite"] for c in client.created] == [[YOUTH]]


async def test_a_withdrawn_invitation_is_not_asked_for_again() -> None:
    store = MemoryStore(AeadSealer())
    client = FailingJoinClient(JoinError("You are not invited to this room.", "M_FORBIDDEN"))
    bot = await _bot(store, client, [])
    await bot.handle_sync(INVITED)
    for n in range(2, 26):
        bot.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    assert client.joins == 1
