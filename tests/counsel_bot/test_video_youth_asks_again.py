"""A youth allowed to ask for video (`youth_may_request`) writes "video" while the call is
open (they closed its tab, or ask again to be sure): a new meeting replaced it, the widget
their counsellor was talking in vanished mid-call and the counsellor was handed a new link,
not told why. A live call is not cut: the youth is told it is open. No server."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.video_calls import VideoCalls
from counsel_bot.core.effects import PutWidget, SayToYouth
from counsel_bot.core.video import VideoSettings
from tests.counsel_bot.parts import AT, CASE, assigned, effects

ALLOWED = VideoSettings(base_url="https://meet.example.org", youth_may_request=True)


def test_a_youth_asking_for_video_during_the_open_call_does_not_cut_it() -> None:
    calls, step = VideoCalls(ALLOWED, None), Change(AT, None)
    calls.by_staff(step, assigned(), end=False, counsellor_name="Anna")
    [shown] = [e for e in effects(step) if isinstance(e, PutWidget)]
    later = Change(AT + timedelta(minutes=10), None)
    calls.by_youth(later, CASE, assigned(), counsellor_name="Anna")
    assert not [e for e in effects(later) if isinstance(e, PutWidget)], (
        "the counsellor's call was cut mid-call for a new one")
    assert calls.widgets == {CASE: shown.widget_id}
    assert [e.key for e in effects(later) if isinstance(e, SayToYouth)] == ["video.open"]


def test_a_youth_asking_after_the_call_ran_out_gets_a_new_one() -> None:
    calls, step = VideoCalls(ALLOWED, None), Change(AT, None)
    calls.by_staff(step, assigned(), end=False, counsellor_name="Anna")
    later = Change(AT + timedelta(minutes=ALLOWED.link_ttl_minutes + 1), None)
    calls.by_youth(later, CASE, assigned(), counsellor_name="Anna")
    assert len([e for e in effects(later) if isinstance(e, PutWidget) and e.content]) == 1
