"""What words a Matrix message event carries for the crisis check (nio's own events)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from nio import Event, RoomMemberEvent, RoomMessage

from counsel_bot.channels.matrix.event_words import held_words, poll_words, words_of

REPLY = {"m.relates_to": {"m.in_reply_to": {"event_id": "$anna"}}}


def event(content: dict[str, Any]) -> RoomMessage:
    parsed = Event.parse_event({"type": "m.room.message", "event_id": "$e1",
                                "sender": "@sunflower:x", "origin_server_ts": 1,
                                "content": content})
    assert isinstance(parsed, RoomMessage)
    return parsed


@pytest.mark.parametrize(("content", "words"), [
    ({"msgtype": "m.text", "body": "hallo"}, "hallo"),
    ({"msgtype": "m.emote", "body": "winkt"}, "winkt"),
    ({"msgtype": "m.notice", "body": "ich will nicht mehr"}, "ich will nicht mehr"),
    ({"msgtype": "m.image", "body": "foto, ich will nicht mehr", "url": "mxc://x/y"},
     "foto, ich will nicht mehr"),
    # A reply: its own words, not the quote of what it answers (a /me too).
    ({"msgtype": "m.text", "body": "> <@anna:x> denkst du daran, dich umzubringen?\n\nnein",
      **REPLY}, "nein"),
    ({"msgtype": "m.emote", "body": "> <@anna:x> denkst du daran, dich umzubringen?\n\nnickt",
      **REPLY}, "nickt"),
    # A reply that opens with the youth's own quote or an emoticon keeps every word.
    ({"msgtype": "m.text", "body": "> ich will mich umbringen\n> hab ich gestern geschrieben",
      **REPLY}, "> ich will mich umbringen\n> hab ich gestern geschrieben"),
    ({"msgtype": "m.text", "body": ">_> ich will mich umbringen", **REPLY},
     ">_> ich will mich umbringen"),
    # Not a reply: a quote-shaped first line stays.
    ({"msgtype": "m.text", "body": "> <@anna:x> hat gesagt\n\nich will nicht mehr"},
     "> <@anna:x> hat gesagt\n\nich will nicht mehr"),
])
def test_the_words_a_message_carries(content: dict[str, Any], words: str) -> None:
    assert words_of(event(content)) == words


def _poll_edit(question: str, inner: dict[str, Any] | None = None) -> dict[str, Any]:
    new: dict[str, Any] = {"m.poll": {"question": {"m.text": [{"body": question}]},
                                      "answers": []}}
    if inner is not None:
        new |= {"m.new_content": inner, "m.relates_to": {"rel_type": "m.replace"}}
    return {"m.new_content": new, "m.relates_to": {"rel_type": "m.replace",
                                                   "event_id": "$poll"}}


def test_an_edited_poll_is_read_as_apps_show_it_not_by_a_new_content_inside_its_new_one(
) -> None:
    """An edit's new poll is its ``m.new_content``: what that holds in turn is nothing an
    app shows (Element shows the first). Followed, the bot read harmless words hidden one
    level down, while the group or the counsellor read the words shown."""
    shown = "ich will heute nicht mehr aufwachen"
    assert poll_words(_poll_edit(shown, _poll_edit("Lieblingseis?"))) == shown


def test_an_edit_nested_deeper_than_pythons_stack_is_read_without_failing() -> None:
    """Followed level by level, a hostile edit nested some thousand times deep failed the
    bot's handling of the sync with a RecursionError (twice, then set aside unread)."""
    content: dict[str, Any] = {"m.poll": {"question": {"m.text": [{"body": "x"}]}}}
    for _ in range(sys.getrecursionlimit() + 100):
        content = {"m.new_content": content, "m.relates_to": {"rel_type": "m.replace"}}
    assert isinstance(poll_words(content), str)


def test_a_new_name_held_for_a_move_is_checked_by_the_name() -> None:
    """A youth's name of crisis words is read like a message (`CounselBot._on_renamed`);
    in the first room of a move whose new room the homeserver refused, it is held, and its
    crisis check ran on no words at all: no alert, maybe never (the room may stay refused)."""
    name = "ich will heute nicht mehr aufwachen"
    member = Event.parse_event({
        "type": "m.room.member", "event_id": "$n1", "sender": "@sunflower:x",
        "state_key": "@sunflower:x", "origin_server_ts": 1,
        "content": {"membership": "join", "displayname": name},
        "unsigned": {"prev_content": {"membership": "join", "displayname": "Sonnenblume"}}})
    assert isinstance(member, RoomMemberEvent)
    assert held_words(member) == name
