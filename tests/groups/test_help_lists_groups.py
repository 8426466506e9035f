"""The help lists the group and forum commands where they work.

Group sessions are on by default and the forum with its topics: a youth reached them only by
writing "gruppe" or "forum", words the youth's "hilfe" never named, and a counsellor's
"!help" listed neither "!group" nor "!forum" (nor the moderation commands of a group's
room), so the night shift could not find how to announce or moderate a group or approve a
post. Memory store, fake clock, the real conductor and desks.
"""

from __future__ import annotations

from counsel_bot.core.effects import SayInRoom, SayToYouth
from counsel_bot.core.messages import text
from tests.groups.test_group_desk import ANNA, Parts


async def _youth_help(p: Parts, word: str, language: str) -> str:
    await p.youth(1, "hallo, ich habe stress zu hause" if language == "de"
                  else "hello, I have trouble at home")
    await p.new()
    await p.youth(1, word)
    [said] = [e for e in await p.new() if isinstance(e, SayToYouth) and e.key == "youth_help"]
    return text("youth_help", "de" if language == "de" else "en", **dict(said.params))


async def test_hilfe_names_gruppe_and_forum() -> None:
    p = Parts()
    await p.start()
    shown = await _youth_help(p, "hilfe", "de")
    assert "„gruppe“" in shown
    assert "„forum“" in shown
    assert "„ende“" in shown


async def test_help_names_group_and_forum_in_english() -> None:
    p = Parts()
    await p.start()
    shown = await _youth_help(p, "help", "en")
    assert '"group"' in shown
    assert '"forum"' in shown
    assert '"end"' in shown


async def test_no_forum_word_without_topics() -> None:
    """Without topics "forum" only answers "not set up": not a word to offer."""
    p = Parts()
    await p.start()
    p.forum.topics = {}
    shown = await _youth_help(p, "hilfe", "de")
    assert "„gruppe“" in shown
    assert "forum" not in shown


async def test_staff_help_lists_the_group_and_forum_commands() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, "!help")
    [said] = [e for e in await p.new() if isinstance(e, SayInRoom) and e.key == "help_text"]
    shown = text("help_text", "de", **dict(said.params))
    for usage in ("!group new", "!group list", "!group join", "!group end", "!mute",
                  "!unmute", "!remove", "!forum pending", "!forum approve", "!forum reject",
                  "!duty", "!note"):
        assert usage in shown, usage
