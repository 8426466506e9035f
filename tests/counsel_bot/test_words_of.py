"""What words a Matrix message event carries for the crisis check (nio's own events)."""

from __future__ import annotations

from typing import Any

import pytest
from nio import Event, RoomMessage

from counsel_bot.channels.matrix.event_words import words_of

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
