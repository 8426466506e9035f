""""Hilfe!" on its own is the youth's help command, and it is also the cry of a youth in
need: the counsellor reads it in the room, but until one comes (at night, for an hour in the
queue) what the youth reads is the bot's answer. The youth-side review found that answer was
only the list of command words: nothing a youth calling for help could do right now. It now
names the numbers, those of the youth's office, as the welcome does. A memory store, the
real detector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.messages import text
from counsel_bot.core.video import VideoSettings
from tests.counsel_bot.test_crisis_paths import ANNA, T0, office, pending, youth
from tests.offices.test_office_deletion_numbers import LOCAL, SETTINGS


@pytest.mark.parametrize("cry", ["Hilfe!", "hilfe", "HILFE!!"])
async def test_hilfe_names_the_numbers(cry: str) -> None:
    c = await office()
    await youth(c, "hallo", T0)
    await youth(c, cry, T0 + timedelta(minutes=1))
    [said] = [e for e in await pending(c) if isinstance(e, SayToYouth) and e.key == "youth_help"]
    shown = text("youth_help", "de", **dict(said.params))
    assert "116 111" in shown
    assert "112" in shown
    assert "„ende“" in shown  # still the help it was


async def test_hilfe_names_the_numbers_of_the_youths_office() -> None:
    c = await office(SETTINGS)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "hilfe", T0 + timedelta(minutes=1))
    [said] = [e for e in await pending(c) if isinstance(e, SayToYouth) and e.key == "youth_help"]
    assert LOCAL in text("youth_help", "de", **dict(said.params))


async def _no_switch(step: Change, conversation: ConversationID, address: str) -> None:
    raise AssertionError("not called: the youth only reads the help")


@pytest.mark.parametrize(("video", "mail"), [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize(("first", "help_word", "quoted"), [
    ("hallo", "hilfe", "„{}“"), ("hello, is anyone there?", "help", '"{}"')])
async def test_hilfe_names_only_the_words_that_do_something_here(
    video: bool, mail: bool, first: str, help_word: str, quoted: str,
) -> None:
    """The help listed "video" and "mail" in every office, also where neither is set up
    (the defaults): a youth who tried them was told they are not available here, twice
    sent to a dead end after calling for help. Each word is listed where it works."""
    settings = Settings(staff=StaffSettings(counsellors=(ANNA,)),
                        video=VideoSettings(base_url="https://meet.example.org" if video else ""))
    c = await office(settings)
    if mail:
        c.mail_switch = _no_switch
    await youth(c, first, T0)
    await youth(c, help_word, T0 + timedelta(minutes=1))
    [said] = [e for e in await pending(c) if isinstance(e, SayToYouth) and e.key == "youth_help"]
    shown = text("youth_help", "de" if help_word == "hilfe" else "en", **dict(said.params))
    assert (quoted.format("video") in shown) is video
    assert (quoted.format("mail") in shown) is mail
    assert quoted.format(help_word) in shown
