"""What a youth can write in a group's room besides a message: a reaction (`m.reaction`,
whose key is free text in any app that lets one type a reaction) and a sticker (its body).
Both are words the whole group reads, so both go through the crisis check like a message:
a youth who reacts with "ich will nicht mehr leben" must reach a human as if they had
written it. A reaction's key stays unencrypted in an encrypted room (it sits in
`m.relates_to`, which the homeserver must read): one of more than one emoji is deleted, and
its writer told in their own chat why and how to write it instead.

Real Synapse, real E2E clients (nio sends a reaction as Element does: encrypted, its
relation in the clear)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nio import (
    RoomGetEventResponse,
    RoomMessage,
    RoomMessagesResponse,
    RoomPutStateResponse,
    RoomSendResponse,
)

from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import CrisisStatus
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import CRISIS, OPEN, Announced, group_announced, join, setting, signed_up
from tests.support.bot_harness import LogCollector, NioYouth, until

pytestmark = pytest.mark.integration


@pytest.fixture
def logs() -> Iterator[LogCollector]:
    collector = LogCollector()
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    root.setLevel(old)


async def _evening_with_one_youth(evening: Announced, synapse: SynapseHandle,
                                  user_factory: UserFactory, tmp_path: Path,
                                  ) -> tuple[NioYouth, str, str, str]:
    """Youth B and the host in group 1's open room, the host's welcome in it: B, B's own
    chat, the group's room and the welcome's event id."""
    b, b_home, _ = await signed_up(synapse, user_factory, tmp_path, evening.bot_id, "youth-b",
                                   evening.closing)
    evening.clock.set(OPEN)
    group_room = await setting(evening.process, "group_room:1")
    for member in (evening.host, b):
        await join(member, group_room)
    await evening.host.wait_for_join(group_room)
    welcome = await evening.host.client.room_send(
        group_room, "m.room.message", {"msgtype": "m.text", "body": "Schön, dass ihr da seid"},
        ignore_unverified_devices=True)
    assert isinstance(welcome, RoomSendResponse), welcome
    await b.wait_for(group_room, evening.host.client.user_id, "Schön, dass ihr da seid")
    await b.wait_for_join(group_room)
    return b, b_home, group_room, welcome.event_id


async def _send(youth: NioYouth, room_id: str, kind: str, content: dict[str, Any]) -> str:
    sent = await youth.client.room_send(room_id, kind, content, ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse), sent
    return str(sent.event_id)


def _reaction(to: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": to, "key": key}}


async def test_a_reaction_with_crisis_words_in_a_group_reaches_a_human(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with group_announced(synapse, user_factory, tmp_path, leads=["lead"]) as evening:
        b, b_home, group_room, welcome = await _evening_with_one_youth(
            evening, synapse, user_factory, tmp_path)
        await _send(b, group_room, "m.reaction", _reaction(welcome, CRISIS))
        alert = await evening.staff["lead"].wait_for(
            evening.staff_room, evening.bot_id, "Krisenhinweis in Gruppe 1", within=60)
        assert CRISIS not in alert
        await b.wait_for(b_home, evening.bot_id, "allein mit jemandem reden")


async def test_a_sticker_with_crisis_words_in_a_group_reaches_a_human(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with group_announced(synapse, user_factory, tmp_path, leads=["lead"]) as evening:
        b, b_home, group_room, _ = await _evening_with_one_youth(
            evening, synapse, user_factory, tmp_path)
        await _send(b, group_room, "m.sticker", {
            "body": CRISIS, "url": "mxc://counsel.test/sticker",
            "info": {"mimetype": "image/png", "w": 64, "h": 64}})
        alert = await evening.staff["lead"].wait_for(
            evening.staff_room, evening.bot_id, "Krisenhinweis in Gruppe 1", within=60)
        assert CRISIS not in alert
        await b.wait_for(b_home, evening.bot_id, "allein mit jemandem reden")


async def test_a_reaction_of_words_in_a_group_is_deleted_and_its_writer_told_why(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, logs: LogCollector
) -> None:
    async with group_announced(synapse, user_factory, tmp_path) as evening:
        b, b_home, group_room, welcome = await _evening_with_one_youth(
            evening, synapse, user_factory, tmp_path)
        canary = "reaktionskanarienvogel wohnt in Musterstadt"
        emoji = await _send(b, group_room, "m.reaction", _reaction(welcome, "👍🏽"))
        words = await _send(b, group_room, "m.reaction", _reaction(welcome, canary))

        async def redacted(event_id: str) -> bool:
            got = await evening.host.client.room_get_event(group_room, event_id)
            assert isinstance(got, RoomGetEventResponse), got
            unsigned = got.event.source.get("unsigned") or {}
            return "redacted_because" in unsigned

        await until(lambda: redacted(words), within=60, what="the reaction of words deleted")
        told = await b.wait_for(b_home, evening.bot_id, "Reaktion", within=30)
        assert canary not in told
        assert "Emoji" in told
        assert not await redacted(emoji), "a reaction of one emoji was deleted"
        assert not [line for line in logs.lines
                    if canary in line and line.startswith(("counsel_bot", "e2e."))]
        found = [str(p) for p in (tmp_path / "bot").rglob("*")
                 if p.is_file() and canary.encode() in p.read_bytes()]
        assert found == []


async def test_a_display_name_of_crisis_words_in_a_group_reaches_a_human(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth's name in the group's member list is words the whole group reads too."""
    async with group_announced(synapse, user_factory, tmp_path, leads=["lead"]) as evening:
        b, b_home, group_room, _ = await _evening_with_one_youth(
            evening, synapse, user_factory, tmp_path)
        renamed = await b.client.room_put_state(
            group_room, "m.room.member", {"membership": "join", "displayname": CRISIS},
            state_key=b.client.user_id)
        assert isinstance(renamed, RoomPutStateResponse), renamed
        alert = await evening.staff["lead"].wait_for(
            evening.staff_room, evening.bot_id, "Krisenhinweis in Gruppe 1", within=60)
        assert CRISIS not in alert
        await b.wait_for(b_home, evening.bot_id, "allein mit jemandem reden")


async def test_a_thumbs_up_on_the_crisis_offer_takes_it_up(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The offer after a crisis in the group asks "Möchtest du allein mit jemandem reden?"
    in the youth's own chat. A youth who answers with a 👍 on it (what many do with a
    question) said yes, but an emoji was dropped as no message: no 1:1 opened, nobody came."""
    async with group_announced(synapse, user_factory, tmp_path, leads=["lead"]) as evening:
        b, b_home, group_room, _ = await _evening_with_one_youth(
            evening, synapse, user_factory, tmp_path)
        await b.send(group_room, CRISIS)
        await b.wait_for(b_home, evening.bot_id, "allein mit jemandem reden")
        history = await b.client.room_messages(b_home, limit=20)
        assert isinstance(history, RoomMessagesResponse), history
        offer = next(e.event_id for e in history.chunk  # the bot's texts are notices
                     if isinstance(e, RoomMessage)
                     and "allein mit jemandem" in str(getattr(e, "body", "")))
        await _send(b, b_home, "m.reaction", _reaction(offer, "👍"))

        bot = evening.process.bot
        assert bot is not None

        async def taken_up() -> bool:
            return await bot.store.conversation_by_room(RoomID(b_home)) is not None

        await until(taken_up, within=60, what="the 1:1 the 👍 asked for")
        record = await bot.store.conversation_by_room(RoomID(b_home))
        assert record is not None
        answer = bot.conductor.router.conversation(record.conversation)
        assert answer is not None
        assert answer.crisis is CrisisStatus.RAISED, "the youth of the group's alert is unflagged"
