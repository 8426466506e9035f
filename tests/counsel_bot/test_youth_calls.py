"""A youth who presses the call button in their chat with the counselling account (Element
and FluffyChat offer a voice or video call in every direct chat of two): the bot ignored
the call's `m.call.invite`. The youth's phone rang out unanswered, nobody told them that
calls are not taken, and a youth who called before writing opened no conversation at all:
no counsellor came. A call is now a youth reaching out like a message: kept as a note for
a counsellor joining later, and the youth is told in words to write instead.

The bot on a fake of nio's client and the executor, events made by nio's parser; and once on
real Synapse, the call from a nio client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nio import Event

from counsel_bot.core.effects import SayToYouth, decode_effect
from counsel_bot.core.messages import text
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_youth_room_stranger import ANNA, ROOM, YOUTH, _bot
from tests.support.bot_harness import office, on_duty


def _call(n: int, sender: str = YOUTH) -> Event:
    """A call as Element sends it into a direct chat of two (VoIP v1)."""
    return Event.parse_decrypted_event({
        "type": "m.call.invite", "sender": sender, "event_id": f"$e{n}",
        "origin_server_ts": n, "room_id": ROOM,
        "content": {"call_id": f"call{n}", "party_id": "PHONE", "version": "1",
                    "lifetime": 60000, "offer": {"type": "offer", "sdp": "v=0"}}})


def _text(n: int, body: str) -> Event:
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": f"$e{n}",
        "origin_server_ts": n, "room_id": ROOM,
        "content": {"msgtype": "m.text", "body": body}})


async def _told(bot: Any) -> list[str]:
    return [e.key for e in (decode_effect(o.payload) for o in await bot.store.pending_outbox())
            if isinstance(e, SayToYouth)]


async def test_a_call_before_any_words_opens_the_conversation_and_the_youth_is_told() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _call(1))
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None, "a youth who called first opened no conversation"
    assert "call_not_taken" in await _told(bot)
    assert [i.body.decode() for i in await bot.store.read_intake(record.conversation)] \
        == ["[Anruf]"]


async def test_a_call_in_an_open_conversation_is_a_note_and_answered_once_per_call() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, "hallo"))
    await bot._on_room_event_once(ROOM, _call(2))
    await bot._on_room_event_once(ROOM, _call(2))  # the same call read again
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    assert [i.body.decode() for i in await bot.store.read_intake(record.conversation)] \
        == ["hallo", "[Anruf]"]
    told = await _told(bot)
    assert told.count("call_not_taken") == 1
    assert "attachment_note" not in told


async def test_a_call_from_element_x_rings_by_a_notification_and_is_answered_too() -> None:
    """Element X calls in a direct chat with Element Call: no `m.call.invite`, but a
    notification that rings the other members (MSC4075), as it names it now or did."""
    for n, kind in enumerate(("org.matrix.msc4075.call.notify",
                              "org.matrix.msc4075.rtc.notification", "m.rtc.notification"),
                             start=1):
        bot, _client, _sent = await _bot()
        await bot._on_room_event_once(ROOM, Event.parse_decrypted_event({
            "type": kind, "sender": YOUTH, "event_id": f"$r{n}", "origin_server_ts": n,
            "room_id": ROOM, "content": {"application": "m.call", "notify_type": "ring",
                                         "notification_type": "ring", "call_id": "",
                                         "m.mentions": {"user_ids": [], "room": True}}}))
        assert await bot.store.conversation_by_room(ROOM) is not None, kind
        assert "call_not_taken" in await _told(bot), kind


async def test_a_call_by_anyone_but_the_youth_is_no_youths_call() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, "hallo"))
    await bot._on_room_event_once(ROOM, _call(2, sender=ANNA))
    assert "call_not_taken" not in await _told(bot)


def test_the_youth_is_told_in_both_languages_to_write_instead() -> None:
    for language in ("de", "en"):
        said = text("call_not_taken", language)
        assert said
        assert "{" not in said


@pytest.mark.integration
async def test_on_real_synapse_a_youth_who_calls_first_is_told_to_write_and_a_counsellor_comes(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The call as a youth's app sends it into their new encrypted chat, read by the bot."""
    async with office(synapse, user_factory, tmp_path) as o:
        await on_duty(o.counsellor, o.bot_user)
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.wait_for_join(room, within=60)
        await o.youth.client.room_send(room, "m.call.invite", {
            "call_id": "call1", "party_id": "PHONE", "version": "1", "lifetime": 60000,
            "offer": {"type": "offer", "sdp": "v=0"}}, ignore_unverified_devices=True)
        await o.youth.wait_for(room, o.bot_user, "Anrufe kann ich hier nicht annehmen",
                               within=60)
        assert await o.counsellor.accept_invite(within=60) == room
