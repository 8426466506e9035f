"""A youth who deletes or edits their waiting forum post: the moderators must never approve
words the youth took back (a real name, a school, a photo's caption written in a hurry)."""

from __future__ import annotations

from counsel_bot.conversation.forum import post_key
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import PostToForum
from counsel_bot.core.ids import EventID, RoomID, UserID
from tests.groups.test_group_desk import BEN, Parts, notices

HOME, YOUTH = RoomID("!home1:x"), UserID("@y1:x")


async def waiting_post(p: Parts, body: str) -> tuple[str, EventID]:
    await p.start()
    await p.youth(1, body)
    [post_id] = p.forum.pending
    await p.new()
    return post_id, EventID(f"$e{p.events}")


async def test_a_deleted_waiting_post_is_withdrawn_and_can_no_longer_be_approved() -> None:
    p = Parts()
    post_id, posted = await waiting_post(p, "forum schule ich bin Lena aus der 8b am Gymnasium")
    taken = await p.c.youth_retracted(HOME, YOUTH, p.event(), posted, None, p.clock.now())
    assert taken
    effects = await p.new()
    assert notices(effects, "forum.withdrawn")
    assert [e for e in effects if isinstance(e, SayToStaff) and e.key == "forum.staff_withdrawn"
            and dict(e.params)["id"] == post_id]
    assert p.forum.pending == []
    assert await p.store.get_sealed_setting(post_key(post_id)) is None
    await p.staff(BEN, f"!forum approve {post_id}")
    assert not [e for e in await p.new() if isinstance(e, PostToForum)]


async def test_an_edited_waiting_post_is_approved_in_its_new_words() -> None:
    p = Parts()
    post_id, posted = await waiting_post(
        p, "forum schule ich bin Lena aus der 8b, Mathe ist zu viel")
    taken = await p.c.youth_retracted(HOME, YOUTH, p.event(), posted,
                                      "forum schule Mathe ist mir gerade zu viel", p.clock.now())
    assert taken
    effects = await p.new()
    assert notices(effects, "forum.updated")
    assert [e for e in effects if isinstance(e, SayToStaff) and e.key == "forum.staff_changed"]
    await p.staff(BEN, f"!forum approve {post_id}")
    [posted_now] = [e for e in await p.new() if isinstance(e, PostToForum)]
    assert posted_now.text == "Mathe ist mir gerade zu viel"
    assert "Lena" not in posted_now.text


async def test_an_edit_that_is_no_longer_a_post_withdraws_it() -> None:
    p = Parts()
    _, posted = await waiting_post(p, "forum schule ich bin Lena aus der 8b")
    assert await p.c.youth_retracted(HOME, YOUTH, p.event(), posted, "ach egal, doch nicht",
                                     p.clock.now())
    assert notices(await p.new(), "forum.withdrawn")
    assert p.forum.pending == []


async def test_crisis_words_edited_into_a_post_withdraw_it_and_go_to_the_counsellors() -> None:
    p = Parts()
    post_id, posted = await waiting_post(p, "forum schule Prüfungsstress")
    edit = p.event()
    words = "forum schule ich will nicht mehr leben"
    # Not taken: the edit goes on to the youth's conversation, which alerts the staff.
    assert not await p.c.youth_retracted(HOME, YOUTH, edit, posted, words, p.clock.now())
    assert p.forum.pending == []
    assert await p.store.get_sealed_setting(post_key(post_id)) is None
    await p.c.youth_wrote(HOME, YOUTH, None, edit, f"* {words}", p.clock.now())
    assert [e for e in await p.new() if isinstance(e, SayToStaff)
            and e.key == "staff_crisis_alert"]


async def test_another_account_cannot_withdraw_a_youths_post() -> None:
    p = Parts()
    post_id, posted = await waiting_post(p, "forum schule Prüfungsstress")
    assert not await p.c.youth_retracted(HOME, UserID("@y2:x"), p.event(), posted, None,
                                         p.clock.now())
    assert p.forum.pending == [post_id]


async def test_deleting_an_ordinary_message_is_not_the_forums() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "hallo, ist hier jemand?")
    assert not await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e1"), None,
                                         p.clock.now())
