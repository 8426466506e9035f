"""What a youth writes once the conversation is over (the youth-side review): "löschen" and
"ja löschen" still delete the chat and the anonymous account. Ending a conversation is when
a youth most often wants it gone (a parent may pick up the phone), and the bot stays in the
room for a while after the close precisely to read what comes. Memory store, the real
rules detector, injected time."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import DeactivateYouth, EraseConversation, PurgeRoom, SayToYouth
from counsel_bot.core.ids import EventID
from tests.counsel_bot.test_crisis_paths import (
    ROOM,
    T0,
    YOUTH,
    closed_by_anna,
    office,
    pending,
    youth,
)


async def _said_to_youth(c: Conductor) -> list[str]:
    return [e.key for e in await pending(c) if isinstance(e, SayToYouth)]


async def test_loeschen_after_the_counsellor_closed_deletes_the_chat() -> None:
    c = await office()
    c.can_delete = lambda: True
    cid = await closed_by_anna(c)
    await youth(c, "löschen", T0 + timedelta(minutes=21))
    assert "delete.confirm" in await _said_to_youth(c)
    await youth(c, "ja löschen", T0 + timedelta(minutes=22))
    effects = await pending(c)
    assert [type(e) for e in effects if isinstance(
        e, PurgeRoom | DeactivateYouth | EraseConversation)] == [
        PurgeRoom, DeactivateYouth, EraseConversation]
    assert all(e.conversation == cid for e in effects if isinstance(e, PurgeRoom))
    said = await _said_to_youth(c)
    assert "delete.now" in said
    assert "closed_write_new" not in said


async def test_loeschen_after_the_youth_wrote_ende_deletes_the_chat() -> None:
    c = await office()
    c.can_delete = lambda: True
    await youth(c, "hallo, ich hab stress zuhause", T0)
    await youth(c, "ende", T0 + timedelta(minutes=5))
    await youth(c, "löschen", T0 + timedelta(minutes=6))
    await youth(c, "ja löschen", T0 + timedelta(minutes=7))
    assert any(isinstance(e, PurgeRoom) for e in await pending(c))
    assert "delete.now" in await _said_to_youth(c)


async def test_without_admin_access_the_youth_is_told_retention_deletes_it() -> None:
    c = await office()
    await closed_by_anna(c)
    await youth(c, "löschen", T0 + timedelta(minutes=21))
    await youth(c, "ja löschen", T0 + timedelta(minutes=22))
    said = await _said_to_youth(c)
    assert "delete.confirm_later" in said
    assert "delete.by_retention" in said
    assert not any(isinstance(e, PurgeRoom) for e in await pending(c))


async def test_a_score_corrected_in_the_app_is_no_new_message() -> None:
    """A youth who scored "3" and then edited it to "5" was told the chat had ended and to
    start a new one, with the emergency numbers, as if they had asked for help. The first
    score stands (a count cannot be taken back); the correction is read and answered with
    nothing."""
    c = await office()
    await closed_by_anna(c)
    scored = EventID("$score")
    await c.youth_wrote(ROOM, YOUTH, None, scored, "3", T0 + timedelta(minutes=21))
    assert await _said_to_youth(c) == ["feedback_thanks"]
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$corrected"), "5",
                        T0 + timedelta(minutes=22), edits=scored)
    assert await _said_to_youth(c) == ["feedback_thanks"]
    # A second score as a message of its own still gets the pointer, as before.
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$again"), "4", T0 + timedelta(minutes=23))
    assert "closed_write_new" in await _said_to_youth(c)
