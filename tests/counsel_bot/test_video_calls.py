"""A conversation's video call without a server: one meeting at a time, links where they
belong, the widget gone at the end."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from counsel_bot.channels.outbox_worker import lane_of
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.video_calls import VideoCalls, setting_key
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import (
    MailToYouth,
    PutWidget,
    SayPrivately,
    SayToStaff,
    SayToYouth,
    conversation_named,
    decode_effect,
    encode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, UserID
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.parts import AT, CASE, COUNSELLOR, WAITING, assigned, effects
from tests.counsel_bot.test_appointments_flow import (
    ANNA,
    NOW,
    ROOM,
    STAFF_ROOM,
    YOUTH,
    office,
    outbox,
    youth_keys,
)
from tests.store.conftest import AeadSealer

JITSI = VideoSettings(base_url="https://meet.example.org")
BEN = UserID("@ben:x")


def widgets(step: Change) -> list[PutWidget]:
    return [e for e in effects(step) if isinstance(e, PutWidget)]


def test_a_new_meeting_replaces_the_old_and_the_end_removes_it() -> None:
    calls, step = VideoCalls(JITSI, None), Change(AT, None)
    calls.by_staff(step, assigned(), end=False, counsellor_name="Anna")
    calls.by_staff(step, assigned(), end=False, counsellor_name="Anna")
    first, removed, second = widgets(step)
    assert first.content
    assert not removed.content
    assert second.content
    assert removed.widget_id == first.widget_id != second.widget_id
    calls.by_staff(step, assigned(), end=True, counsellor_name="Anna")
    assert widgets(step)[-1] == PutWidget(CASE, second.widget_id)
    assert step.settings[-1] == (setting_key(CASE), "")
    assert calls.widgets == {}


def test_the_youth_gets_the_link_and_no_staff_link_without_tokens() -> None:
    calls, step = VideoCalls(JITSI, None), Change(AT, None)
    calls.start(step, CASE, COUNSELLOR, "Anna")
    [link] = [e for e in effects(step) if isinstance(e, SayToYouth)]
    assert link.key == "video.link"
    assert not [e for e in effects(step) if isinstance(e, SayToStaff)]


def test_with_token_auth_the_moderator_link_goes_to_the_counsellor_alone() -> None:
    """Not into the staff room, which every colleague reads: whoever holds the moderator
    link can join the youth's call unannounced. The staff room learns it was sent."""
    settings = VideoSettings(base_url="https://meet.example.org", jitsi_app_id="counsel",
                             jitsi_app_secret_file="/run/secret")
    calls, step = VideoCalls(settings, "s" * 32), Change(AT, None)
    calls.start(step, CASE, COUNSELLOR, "Anna")
    [private] = [e for e in effects(step) if isinstance(e, SayPrivately)]
    assert (private.to, private.conversation, private.key) == (
        COUNSELLOR, CASE, "video.counsellor_link")
    [staff] = [e for e in effects(step) if isinstance(e, SayToStaff)]
    assert staff.key == "video.link_sent"
    assert "url" not in dict(staff.params)
    assert dict(staff.params)["to"] == COUNSELLOR
    token = str(dict(private.params)["url"]).split("?jwt=")[1]
    claims = jwt.decode(token, options={"verify_signature": False})  # only its claims here
    assert claims["context"]["user"] == {"moderator": True, "name": "Anna"}


def test_a_youth_asks_only_when_allowed_and_only_with_a_counsellor() -> None:
    step = Change(AT, None)
    VideoCalls(JITSI, None).by_youth(step, CASE, assigned(), counsellor_name="")
    allowed = VideoCalls(VideoSettings(base_url=JITSI.base_url, youth_may_request=True), None)
    allowed.by_youth(step, CASE, WAITING, counsellor_name="")
    said = [e.key for e in effects(step) if isinstance(e, SayToYouth)]
    assert said == ["video.ask_counsellor", "video.after_counsellor"]
    allowed.by_youth(step, CASE, assigned(), counsellor_name="")
    assert len(widgets(step)) == 1


def test_video_off_says_so_and_restore_remembers_the_widget() -> None:
    calls, step = VideoCalls(VideoSettings(), None), Change(AT, None)
    calls.start(step, CASE, COUNSELLOR, "")
    assert effects(step) == [SayToYouth(CASE, "video.off")]
    calls.restore(CASE, "counsel_video_abc")
    calls.end(step, CASE)
    assert widgets(step) == [PutWidget(CASE, "counsel_video_abc")]


def test_a_mail_youth_gets_the_link_by_mail() -> None:
    """A mail youth reads mail, not the room (the counsellor's words there go out as mail):
    a link said only in the room would never reach them, and the counsellor would wait."""
    calls, step = VideoCalls(JITSI, None), Change(AT, None)
    calls.by_staff(step, assigned(channel=Channel.MAIL), end=False, counsellor_name="Anna")
    [link] = [e for e in effects(step) if isinstance(e, MailToYouth)]
    assert link.key == "video.link"
    assert str(dict(link.params)["url"]).startswith("https://meet.example.org/")
    assert not [e for e in effects(step) if isinstance(e, SayToYouth)]


async def test_after_a_failed_write_the_end_removes_the_widget_that_is_in_the_room() -> None:
    """A step that failed to commit sent nothing: the room still shows the call before it,
    so that one is what `!video end` (or the close) must take away, not the unsent one."""
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$v1"), "!video", NOW)
    [shown] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    commit = c.store.commit_transition

    async def failing(transition: object) -> bool:
        raise OSError("disk full")
    c.store.commit_transition = failing  # type: ignore[method-assign,assignment]
    with pytest.raises(OSError, match="disk full"):
        await c.staff_wrote(ROOM, ANNA, EventID("$v2"), "!video", NOW)
    c.store.commit_transition = commit  # type: ignore[method-assign]
    await c.staff_wrote(ROOM, ANNA, EventID("$v3"), "!video end", NOW)
    assert [e for e in await outbox(c) if isinstance(e, PutWidget)][-1] == PutWidget(
        conversation, shown.widget_id)


def test_a_youth_who_asks_for_video_where_it_is_off_is_told_so_not_sent_to_the_counsellor(
) -> None:
    """"Tell your counsellor, they can start the call" is a promise nobody can keep where
    video is off (the default): the youth is told it is not set up, as after `!video`."""
    step = Change(AT, None)
    VideoCalls(VideoSettings(), None).by_youth(step, CASE, assigned(), counsellor_name="")
    VideoCalls(VideoSettings(youth_may_request=True), None).by_youth(
        step, CASE, WAITING, counsellor_name="")
    assert effects(step) == [SayToYouth(CASE, "video.off"), SayToYouth(CASE, "video.off")]


async def test_a_counsellor_talking_with_the_youth_in_a_video_call_is_not_handed_back() -> None:
    """In a call the counsellor answers by voice, not in the chat: the youth's "bin drin"
    before it is answered there. Counted as unanswered, the response timers reminded her
    after 15 minutes and, 30 minutes into the call, handed the conversation back: she was
    taken out of the room and the youth, mid-call, told their counsellor had left."""
    c, case, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "Hallo! Magst du per Video reden?", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "!video", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ok, bin drin", NOW)
    for minutes in range(1, 50):
        await c.tick(NOW + timedelta(minutes=minutes))
    current = c.router.conversation(case)
    assert current is not None
    assert current.assigned_to == ANNA, "handed back in the middle of the call"
    reminded = [e for e in await outbox(c)
                if isinstance(e, SayToStaff) and e.key.startswith("timers.")]
    assert not reminded, "reminded to write while talking with the youth"


async def test_after_a_restart_mid_call_the_counsellor_is_still_in_the_call() -> None:
    """The call's end and its host were kept in memory only: the bot restarted (an update,
    the OOM killer) ten minutes into the call, and from then on what the youth wrote in the
    chat beside the call counted as unanswered again, so the counsellor talking on video was
    reminded and then the conversation handed back mid-call (she was taken out of the room,
    the call ended, the youth told their counsellor had left)."""
    c, case, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "Hallo! Magst du per Video reden?", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "!video", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ok, bin drin", NOW)
    await c.tick(NOW + timedelta(minutes=1))
    c = await Conductor.open(c.store, c.detector, c.policy, NOW + timedelta(minutes=10))
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "bild hängt kurz",
                        NOW + timedelta(minutes=11))
    for minutes in range(11, 50):
        await c.tick(NOW + timedelta(minutes=minutes))
    current = c.router.conversation(case)
    assert current is not None
    assert current.assigned_to == ANNA, "handed back in the middle of the call"
    reminded = [e for e in await outbox(c)
                if isinstance(e, SayToStaff) and e.key.startswith("timers.")]
    assert not reminded, "reminded to write while talking with the youth"


async def two_counsellors() -> tuple[Conductor, ConversationID]:
    """Anna (on duty) has the youth's conversation; Ben is on duty too; video is on."""
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA), str(BEN))),
                                  video=VideoSettings(base_url="https://meet.x")))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, NOW)
    await c.sync_roster(NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo", NOW)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$dutyb"), "!duty on", NOW)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    return c, record.conversation


@pytest.mark.parametrize("hand_over", ["!transfer @ben:x", "!transfer queue", "!duty off"])
async def test_a_hand_over_ends_the_call_so_the_former_counsellor_cannot_enter_it(
        hand_over: str) -> None:
    """The call's links (the moderator link in the staff room, the plain one without token
    auth) keep opening its conference long after a hand-over: kept, the youth went on in
    the call their former counsellor could still enter, unseen by the new one, and the
    new counsellor counted as in that call, so nobody was reminded when the youth's
    words went unanswered. A hand-over takes the call away; the next one is a new
    conference, and the youth is told the old link is void."""
    c, conversation = await two_counsellors()
    await c.staff_wrote(ROOM, ANNA, EventID("$v"), "!video", NOW)
    [shown] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    room = ROOM if hand_over.startswith("!transfer") else STAFF_ROOM
    await c.staff_wrote(room, ANNA, EventID("$h"), hand_over, NOW + timedelta(minutes=1))
    removed = [e for e in await outbox(c) if isinstance(e, PutWidget) and not e.content]
    assert removed == [PutWidget(conversation, shown.widget_id)]
    assert conversation not in c.video.widgets
    assert "video.link_void" in await youth_keys(c)


def test_a_private_link_is_stored_and_erased_with_its_conversation() -> None:
    """Kept in the outbox over a restart, and named by its conversation, so erasing the
    conversation takes the unsent link with it; its lane is the person's, so a direct room
    still being opened holds up nothing of the youth's."""
    link = SayPrivately(COUNSELLOR, CASE, "video.counsellor_link",
                        (("conversation", CASE), ("url", "https://meet.example.org/c?jwt=t")))
    assert decode_effect(encode_effect(link)) == link
    assert conversation_named(link) == CASE
    assert lane_of(link) != lane_of(PutWidget(CASE, "w"))
