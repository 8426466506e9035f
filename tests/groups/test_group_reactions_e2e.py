"""What a youth can write in a group's room besides a message: a reaction (`m.reaction`,
whose key is free text in any app that lets one type a reaction) and a sticker (its body).
Both are words the whole group reads, so both go through the crisis check like a message:
a youth who reacts with "ich will nicht mehr leben" must reach a human as if they had
written it; the bot read neither.

Real Synapse, real E2E clients (nio sends a reaction as Element does: encrypted, its
relation in the clear)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import CRISIS, OPEN, Announced, group_announced, join, setting, signed_up
from tests.support.bot_harness import NioYouth

pytestmark = pytest.mark.integration


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
