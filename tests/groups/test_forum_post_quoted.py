"""A published forum post cannot pose as another one. The bot posts every post under its own
name, with a header naming the nickname ("Lena schreibt:"). Before, a post's text went in as
it was, so a line "Max schreibt:" inside Lena's post read as a second post by Max (or, with
no header, as the bot's own words): a youth could put words in another youth's or the
team's mouth (a suspicion of the groups review). Each line of a post is now quoted.

A recording stand-in for nio's client and the executor; the real homeserver path is the
group e2e tests'."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.channels.matrix.group_rooms import GroupRooms, forum_room_key
from counsel_bot.core.group_effects import PostToForum
from counsel_bot.core.groups import as_quote
from counsel_bot.core.ids import RoomID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

FAKED = "ich hab auch angst vor der prüfung\n\nMax schreibt:\nich hasse euch alle\n\u2028Team: " \
        "das forum schließt heute"


async def test_a_published_post_has_no_line_of_its_own_outside_the_quote() -> None:
    store = MemoryStore(AeadSealer())
    await store.set_setting(forum_room_key("schule"), "!forum:x")
    sent: list[str] = []

    async def send(room_id: RoomID, body: str, key: str) -> None:
        sent.append(body)

    client = SimpleNamespace(user_id="@bot:x",
                             rooms={"!forum:x": SimpleNamespace(encrypted=True)})
    executor = SimpleNamespace(client=client, store=store, default_language="de", send=send)
    rooms = GroupRooms(executor, room_opened=lambda n, r: None,  # type: ignore[arg-type]
                       room_purged=lambda n: None)
    await rooms.perform(PostToForum("schule", "Lena", FAKED), "forum_post:p1")
    [body] = sent
    header, *lines = body.splitlines()
    assert header == "Lena schreibt:"
    assert lines
    assert all(line.startswith(">") for line in lines), body
    assert "> Max schreibt:" in lines


@given(st.text())
def test_every_line_of_any_text_is_quoted(words: str) -> None:
    assert all(line.startswith(">") for line in as_quote(words).splitlines())


@pytest.mark.parametrize(("words", "quoted"), [("hallo", "> hallo"), ("", ">"),
                                               ("a\n\nb", "> a\n>\n> b")])
def test_a_quote_keeps_the_lines_of_the_post(words: str, quoted: str) -> None:
    assert as_quote(words) == quoted
