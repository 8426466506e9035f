"""Crisis words a youth writes while the room they are to be moved to is refused.

In a room without encryption the bot holds the youth's words until its own encrypted room
exists (`HeldEvents`), and reads them there: counted in the new room, crisis check
included. While the homeserver refuses the new room (429 on a busy evening, asked again a
minute later; 403 when the bot's account may not create rooms, for as long as nobody
changes that), the words sat unread, "ich will mich umbringen" too: no staff alert, no
numbers for the youth. The bot can read them (the room is not encrypted), so a crisis in
them must reach the staff at once, as any crisis does, without the words and without the
room in the alert.

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nio import SyncResponse

from counsel_bot.channels.outbox_worker import is_urgent
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import (
    BOT,
    INVITED,
    ROOM,
    YOUTH,
    FakeClient,
    ForbiddingClient,
    RefusingClient,
    _bot,
    _sync,
)
from tests.store.conftest import AeadSealer


@pytest.mark.parametrize("client_type", [RefusingClient, ForbiddingClient],
                         ids=["429", "403"])
async def test_crisis_words_held_for_a_refused_move_alert_the_staff_at_once(
        client_type: type[FakeClient]) -> None:
    store, client, sent = MemoryStore(AeadSealer()), client_type(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(_joined_after("ich will mich umbringen"))  # refused: held
    assert await bot.moves.target(RoomID(ROOM)) is None  # still refused

    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and is_urgent(e)]
    assert alerts, ("crisis words held for a refused move reached nobody: no staff alert "
                    "until the homeserver gives the bot its new room")
    assert all("umbringen" not in str(a.params) for a in alerts)  # never the words
    assert all(ROOM not in str(a.params) for a in alerts)  # nor the youth's room
    # The youth gets the numbers now, in the room they are writing in.
    assert [key for room, key in sent if room == ROOM and not key.startswith("moved:")], (
        "the youth who wrote crisis words was not given the emergency numbers")


def _joined_after(body: str) -> SyncResponse:
    """The first sync after the join, with the youth's first message before the join."""
    return _sync("s2", join={ROOM: {
        "timeline": {"events": [
            {"type": "m.room.message", "sender": YOUTH, "event_id": "$first",
             "origin_server_ts": 1, "content": {"msgtype": "m.text", "body": body}},
            {"type": "m.room.member", "state_key": BOT, "sender": BOT, "event_id": "$join",
             "origin_server_ts": 2, "content": {"membership": "join"}}],
            "limited": False, "prev_batch": "p1"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_harmless_words_held_for_a_refused_move_alert_nobody() -> None:
    """The baseline: held words without a crisis wait for the move, as before."""
    store, client, sent = MemoryStore(AeadSealer()), RefusingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(_joined_after("hallo, wie lange dauert das?"))
    assert bot.held
    assert not [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
                if isinstance(e, SayToStaff)]


def _youth_said(next_batch: str, event_id: str, body: str) -> SyncResponse:
    """A later sync: one more message of the youth in the first room."""
    return _sync(next_batch, join={ROOM: {
        "timeline": {"events": [
            {"type": "m.room.message", "sender": YOUTH, "event_id": event_id,
             "origin_server_ts": 3, "content": {"msgtype": "m.text", "body": body}}],
            "limited": False, "prev_batch": "p2"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_crisis_words_split_over_short_held_lines_alert_the_staff() -> None:
    """Youths split one sentence over several messages; in a conversation, and after its
    close, the short lines of a burst are judged together. Held for a move refused for
    good (403: maybe for hours), each was judged alone: "ich will" / "nicht mehr leben"
    alerted nobody and gave the youth no numbers, for as long as the refusal lasted."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(_joined_after("ich will"))  # refused for good: held
    bot.clock.advance(timedelta(seconds=10))  # type: ignore[attr-defined]
    await bot.handle_sync(_youth_said("s3", "$second", "nicht mehr leben"))
    assert await bot.moves.target(RoomID(ROOM)) is None  # still refused

    alerts = [e for e in (decode_effect(o.payload) for o in await store.pending_outbox())
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_unmoved"]
    assert alerts, ("crisis words split over two held lines reached nobody while the "
                    "homeserver refused the new room")
    assert [key for room, key in sent if room == ROOM and key.startswith("crisis-unmoved")], (
        "the youth who wrote crisis words was not given the emergency numbers")
