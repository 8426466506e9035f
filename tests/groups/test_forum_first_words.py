"""A youth's first message that merely starts with "Forum" ("Forum? ich brauche jemanden
zum reden") is words for a counsellor, not a forum command with an unknown topic: read as
one, the youth got the list of forum topics, no conversation opened, and nobody read what
they wrote. The conductor with the memory store (`test_group_desk.Parts`), no server."""

from __future__ import annotations

import pytest

from counsel_bot.core.ids import RoomID
from tests.groups.test_group_desk import Parts, notices


@pytest.mark.parametrize("first", [
    "Forum? ich brauche jemanden zum reden, mir geht es so schlecht",
    "forum: my dad is really mean to me and I don't know what to do",
])
async def test_a_first_message_starting_with_forum_opens_a_conversation(first: str) -> None:
    p = Parts()
    await p.start()
    await p.youth(1, first)
    effects = await p.new()
    assert not notices(effects, "forum.unknown_topic")  # type: ignore[arg-type]
    assert await p.store.conversation_by_room(RoomID("!home1:x")) is not None


async def test_forum_and_an_unknown_topic_alone_still_get_the_list() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "forum schul")
    assert notices(await p.new(), "forum.unknown_topic")  # type: ignore[arg-type]
    assert await p.store.conversation_by_room(RoomID("!home1:x")) is None
