"""A message whose words are only in its HTML (`formatted_body`, no `body`): apps that
render HTML show the words to the counsellor in the chat, but the bot read "no words": no
crisis check, nothing kept for a counsellor joining later, and the youth told it cannot pass
on pictures or files. Its words are now the HTML's text, without what no app shows (a
script, a style, a reply's quote).

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from typing import Any

import pytest

from counsel_bot.core import incoming_text
from counsel_bot.core.effects import SayToStaff, SayToYouth
from tests.counsel_bot.test_youth_edit_words import _effects, _message
from tests.counsel_bot.test_youth_room_stranger import ROOM, _bot

CRISIS = "ich will nicht mehr leben"


@pytest.mark.parametrize(("html", "text"), [
    (f"<p>{CRISIS}</p>", CRISIS),
    ("<script>alert(1)</script><b>ich</b> will nicht&nbsp;mehr leben", CRISIS.replace(
        "nicht mehr", "nicht\u00a0mehr")),
    (f"<mx-reply><blockquote>wie geht es dir?</blockquote></mx-reply>{CRISIS}", CRISIS),
    ("zeile eins<br>zeile zwei", "zeile eins\nzeile zwei"),
    ("<style>p {color: red}</style>&lt;3", "<3"),
])
def test_the_text_of_html_is_what_an_app_shows(html: str, text: str) -> None:
    assert incoming_text.html_text(html) == text


def _html_only(html: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "format": "org.matrix.custom.html", "formatted_body": html}


async def test_crisis_words_only_in_html_are_checked_and_kept_as_words() -> None:
    bot, _client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _message(1, {"msgtype": "m.text", "body": "hallo"}))
    await bot._on_room_event_once(ROOM, _message(2, _html_only(
        f"<script>x()</script><p>{CRISIS}</p>")))
    effects = await _effects(bot)
    assert [e for e in effects if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert not [e for e in effects if isinstance(e, SayToYouth) and e.key == "attachment_note"]
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    kept = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
    assert kept == ["hallo", CRISIS]
