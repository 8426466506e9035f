"""A join (or a new room for a move) the homeserver is slow to answer must not stop the bot
reading everyone else.

The bot joins a room it is invited to inside its sync loop, before the batch's messages. nio
tries a request that timed out again, for ever (`session.client_config`: max_timeouts None,
30 s each): a youth on a homeserver that answers the join late (a remote one, busy or
unreachable; a local one under load) held the whole loop, so another youth's crisis words in
the same batch, and every later batch, waited unread for as long as the join did, with no
alert, no page and no tick. So did the room the bot makes to move a youth out of a room
without encryption: the homeserver answers it only once it has sent the youth's invitation,
over federation to their homeserver.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's own
parser; the slow homeserver is a join that answers after two minutes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from nio import MatrixRoom

from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    ROOM,
    FakeClient,
    _bot,
    _sync,
)
from tests.store.conftest import AeadSealer

SLOW, OTHER, OTHER_YOUTH = "!slow:remote", "!other:x", "@rose:x"
# Long enough to show the loop is not held for the join's whole time, short enough for CI.
WITHIN_SECONDS = 15


class SlowJoinClient(FakeClient):
    """A homeserver that takes two minutes to answer a join."""

    def __init__(self) -> None:
        super().__init__()
        room = MatrixRoom(OTHER, BOT, encrypted=True)  # another youth's chat with the bot
        room.add_member(OTHER_YOUTH, "Rose", None)
        room.add_member(BOT, "Beratung", None)
        self.rooms[OTHER] = room

    async def join(self, room_id: str) -> Any:
        await asyncio.sleep(120)
        return await super().join(room_id)


# Another youth's room in the same batch, with crisis words in it.
OTHER_YOUTHS_CRISIS = {
    "timeline": {"events": [
        {"type": "m.room.message", "sender": OTHER_YOUTH, "event_id": "$rose",
         "origin_server_ts": 1, "content": {"msgtype": "m.text",
                                            "body": "ich will mich umbringen"}}],
        "limited": False, "prev_batch": "p1"},
    "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    "summary": {}, "unread_notifications": {}}


async def _crisis_alerts(store: MemoryStore) -> list[SayToStaff]:
    return [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
            if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]


# One batch: an invitation from a youth on the slow homeserver, and another youth's words.
BATCH = _sync("s2", invite={SLOW: {"invite_state": {"events": [
    {"type": "m.room.member", "state_key": BOT, "sender": "@far:remote",
     "content": {"membership": "invite"}}]}}}, join={OTHER: OTHER_YOUTHS_CRISIS})


async def test_a_slow_join_does_not_hold_another_youths_crisis_alert() -> None:
    store, client = MemoryStore(AeadSealer()), SlowJoinClient()
    bot = await _bot(store, client, [])
    try:
        await asyncio.wait_for(bot.handle_sync(BATCH), WITHIN_SECONDS)
    except TimeoutError:
        raise AssertionError(
            "a join the homeserver answers late held the sync loop: another youth's crisis "
            f"words were still unread after {WITHIN_SECONDS} s") from None
    assert await _crisis_alerts(store), "another youth's crisis words reached nobody"


class SlowInviteClient(SlowJoinClient):
    """Joins at once; but a new room with an invitation for a youth on a slow homeserver
    takes two minutes (the homeserver sends the invitation over federation before it
    answers)."""

    async def join(self, room_id: str) -> Any:
        return await FakeClient.join(self, room_id)

    def __init__(self) -> None:
        super().__init__()
        self.answered = asyncio.Event()  # set by the test when it is done

    async def room_create(self, **kwargs: Any) -> Any:
        if kwargs.get("invite"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.answered.wait(), 120)
        return await super().room_create(**kwargs)


# The sync after the join of a youth's room without encryption (the bot moves them out of
# it), with another youth's words in the same batch.
MOVE_BATCH = _sync("s2", join={ROOM: {
    "timeline": {"events": [{"type": "m.room.member", "state_key": BOT, "sender": BOT,
                             "event_id": "$join", "origin_server_ts": 1,
                             "content": {"membership": "join"}}],
                 "limited": False, "prev_batch": "p1"},
    "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    "summary": {}, "unread_notifications": {}}, OTHER: OTHER_YOUTHS_CRISIS})


async def test_a_slow_new_room_for_a_move_does_not_hold_another_youths_crisis_alert() -> None:
    store, client = MemoryStore(AeadSealer()), SlowInviteClient()
    bot = await _bot(store, client, [])
    await bot.handle_sync(INVITED)
    try:
        await asyncio.wait_for(bot.handle_sync(MOVE_BATCH), WITHIN_SECONDS)
    except TimeoutError:
        raise AssertionError(
            "a new room the homeserver answers late held the sync loop: another youth's "
            f"crisis words were still unread after {WITHIN_SECONDS} s") from None
    finally:
        client.answered.set()
    assert await _crisis_alerts(store), "another youth's crisis words reached nobody"
