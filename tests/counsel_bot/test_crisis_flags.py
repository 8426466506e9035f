"""Crisis flags without a server: what rises, who hears, what is kept, who is paged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from unittest import mock

import pytest

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.crisis_flags import (
    CrisisFlags,
    RaisedFlag,
    setting_key,
    source_key,
    wait_key,
)
from counsel_bot.core.crisis import Assessment, CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, SayToYouth
from counsel_bot.core.ids import UserID
from counsel_bot.core.messages import Language
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import CrisisStatus, RouterSnapshot
from counsel_bot.metrics import CounselMetrics
from tests.counsel_bot.parts import AT, CASE, COUNSELLOR, LEAD, WAITING, assigned, effects

EMERGENCY: dict[Language, str] = {"de": "116 111", "en": "116 111 (en)"}
WAIT = timedelta(minutes=2)


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector.from_directory(default_lexicon_dir())


def counted(step: Change) -> mock.Mock:
    metrics = mock.Mock(spec=CounselMetrics)
    for count in step.after:
        count(metrics)
    return metrics



def written(step: Change) -> None:
    """What the conductor does once a step is durable."""
    for done in step.committed:
        done()

async def test_only_crisis_wording_raises(detector: CrisisDetector) -> None:
    flags = CrisisFlags(detector, WAIT)
    assert await flags.observe(CASE, "hallo, ich hab eine frage", AT) is None
    raised = await flags.observe(CASE, "ich will sterben", AT)
    assert raised is not None
    assert raised.tier >= 1


async def test_first_flag_alerts_staff_and_gives_the_youth_safety_info(detector: CrisisDetector
                                                                 ) -> None:
    flags, step = CrisisFlags(detector, WAIT), Change(AT, None)
    raised = await flags.observe(CASE, "ich will sterben", AT)
    assert raised is not None
    assert raised.explicit
    flags.raised(step, raised, assigned(crisis=CrisisStatus.RAISED), first=True,
                 emergency=EMERGENCY)
    alert, safety = effects(step)
    assert isinstance(alert, SayToStaff)
    assert alert.mentions == (COUNSELLOR,)
    assert safety == SayToYouth(CASE, "safety_info", (("emergency", "116 111"),))
    # The category and time in the form every version reads; who raised it, apart.
    # And the escalation's wait (begun now, not paged, only a review ends it: assigned).
    assert dict(step.settings) == {setting_key(CASE): f"suicide|{AT.isoformat()}",
                                   source_key(CASE): "rule",
                                   wait_key(CASE): f"{AT.isoformat()}|0|1"}
    counted(step).crisis_flagged.assert_called_once_with("suicide", "high", "rule")
    written(step)
    again = Change(AT + WAIT, None)
    flags.raised(again, raised, assigned(), first=False, emergency=EMERGENCY)
    assert [type(e) for e in effects(again)] == [SayToStaff]
    assert again.settings == []
    assert flags.details[CASE].raised_at == AT


async def test_a_flag_the_model_raised_alone_offers_help_without_thanks(
        detector: CrisisDetector) -> None:
    """The model flags ordinary lines now and then ("hab meinem bruder meine alte switch
    geschenkt"); the youth gets the numbers, but is not thanked for a disclosure."""

    async def model_says_high(texts: Sequence[str]) -> list[Assessment]:
        return [Assessment(True, "suicide", "high", ("model.suicide",), 0.7) for _ in texts]

    flags, step = CrisisFlags(detector, WAIT, model_says_high), Change(AT, None)
    raised = await flags.observe(CASE, "hab meinem bruder meine alte switch geschenkt", AT)
    assert raised is not None
    assert not raised.explicit
    flags.raised(step, raised, assigned(crisis=CrisisStatus.RAISED), first=True,
                 emergency=EMERGENCY)
    alert, offer = effects(step)
    assert isinstance(alert, SayToStaff)
    assert offer == SayToYouth(CASE, "safety_offer", (("emergency", "116 111"),))
    counted(step).crisis_flagged.assert_called_once_with("suicide", "high", "model")
    assert flags.details[CASE].source == "model"
    assert (source_key(CASE), "model") in step.settings


async def test_a_review_counts_for_whoever_raised_the_flag_last(detector: CrisisDetector
                                                                ) -> None:
    """The model's flag dismissed, then a rule's: the confirmation is the rule's."""
    flags = CrisisFlags(detector, WAIT)
    model_flag = RaisedFlag("suicide", "medium", ("model.suicide",), source="model")
    rule_flag = RaisedFlag("suicide", "high", ("de.suicide.001",), explicit=True)
    first, again, same = (Change(AT + WAIT * n, None) for n in (0, 1, 2))
    flags.raised(first, model_flag, assigned(crisis=CrisisStatus.RAISED), first=True,
                 emergency=EMERGENCY)
    written(first)
    flags.raised(again, rule_flag, assigned(crisis=CrisisStatus.RAISED), first=False,
                 emergency=EMERGENCY)
    written(again)
    flags.raised(same, rule_flag, assigned(crisis=CrisisStatus.RAISED), first=False,
                 emergency=EMERGENCY)
    assert again.settings == [(source_key(CASE), "rule")]
    assert same.settings == []
    assert flags.details[CASE].raised_at == AT
    review = Change(AT + WAIT * 3, None)
    flags.reviewed(review, ev.CrisisConfirmed(AT, UserID("@anna:x"), CASE),
                   lambda _: assigned(crisis=CrisisStatus.CONFIRMED))
    counted(review).crisis_reviewed.assert_called_once_with("suicide", "confirmed", "rule")
    repeated = Change(AT + WAIT * 4, None)
    flags.reviewed(repeated, ev.CrisisConfirmed(AT, UserID("@anna:x"), CASE),
                   lambda _: assigned(crisis=CrisisStatus.CONFIRMED))
    assert repeated.after == []  # "!confirm" said twice is one review


def test_a_flag_reviewed_before_a_restart_is_not_counted_again(detector: CrisisDetector
                                                               ) -> None:
    flags = CrisisFlags(detector, WAIT)
    flags.restore(CASE, f"abuse|{AT.isoformat()}", "model")
    reviewed = replace(assigned(), crisis=CrisisStatus.DISMISSED)
    flags.restore_waiting(RouterSnapshot(conversations=(reviewed,)), AT)
    step = Change(AT, None)
    flags.reviewed(step, ev.CrisisDismissed(AT, UserID("@anna:x"), CASE), lambda _: reviewed)
    assert step.after == []


async def test_a_flag_nobody_takes_pages_the_leads_once(detector: CrisisDetector) -> None:
    flags = CrisisFlags(detector, WAIT)
    raised = await flags.observe(CASE, "ich will sterben", AT)
    assert raised is not None
    flags.raised(Change(AT, None), raised, WAITING, first=True, emergency=EMERGENCY)
    snapshot = RouterSnapshot(conversations=(replace(WAITING, crisis=CrisisStatus.RAISED),))
    early, due, later = (Change(AT + WAIT * n, None) for n in (0.5, 1, 2))
    for step in (early, due, later):
        flags.page_leads(step, snapshot, 7, lambda _: ("", (LEAD,)))
    assert effects(early) == []
    assert effects(later) == []
    [page] = effects(due)
    assert isinstance(page, SayToStaff)
    assert page.key == "staff_lead_page"
    assert page.mentions == (LEAD,)
    assert due.effects[0][1] == f"page:{CASE}:7"
    counted(due).escalated.assert_called_once()


def test_reviews_count_by_category_only_when_the_router_took_them(detector: CrisisDetector
                                                                  ) -> None:
    flags = CrisisFlags(detector, WAIT)
    flags.restore(CASE, f"self_harm|{AT.isoformat()}")
    event = ev.CrisisConfirmed(AT, UserID("@anna:x"), CASE)
    refused, taken = Change(AT, None), Change(AT, None)
    flags.reviewed(refused, event, lambda _: assigned(crisis=CrisisStatus.RAISED))
    flags.reviewed(taken, event, lambda _: assigned(crisis=CrisisStatus.CONFIRMED))
    assert refused.after == []
    counted(taken).crisis_reviewed.assert_called_once_with("self_harm", "confirmed", "unknown")


def test_a_review_is_counted_by_who_raised_the_first_flag(detector: CrisisDetector) -> None:
    flags, step = CrisisFlags(detector, WAIT), Change(AT, None)
    flags.restore(CASE, f"abuse|{AT.isoformat()}", "model")
    assert flags.details[CASE].source == "model"
    flags.reviewed(step, ev.CrisisDismissed(AT, UserID("@anna:x"), CASE),
                   lambda _: assigned(crisis=CrisisStatus.DISMISSED))
    counted(step).crisis_reviewed.assert_called_once_with("abuse", "dismissed", "model")


@pytest.mark.parametrize("stored", [None, "", "x", "rule|model"])
def test_a_source_not_kept_or_not_known_is_counted_as_unknown(detector: CrisisDetector,
                                                               stored: str | None) -> None:
    flags = CrisisFlags(detector, WAIT)
    flags.restore(CASE, f"abuse|{AT.isoformat()}", stored)
    assert flags.details[CASE].source == "unknown"


def test_forgetting_clears_the_kept_detail(detector: CrisisDetector) -> None:
    flags, step = CrisisFlags(detector, WAIT), Change(AT, None)
    flags.restore(CASE, f"suicide|{AT.isoformat()}", "model")
    flags.forget(step, CASE)
    flags.forget(step, CASE)
    assert flags.details == {}
    assert step.settings == [(setting_key(CASE), ""), (source_key(CASE), "")]


async def test_the_judge_given_does_the_judging(detector: CrisisDetector) -> None:
    """The bot hands in a judge that runs the detector in a worker thread; whatever it says
    is what counts, for the message and for the recent short messages joined."""
    asked: list[list[str]] = []

    async def judge(texts: Sequence[str]) -> list[Assessment]:
        asked.append(list(texts))
        return detector.assess_many(texts)

    flags = CrisisFlags(detector, WAIT, judge)
    assert await flags.observe(CASE, "ich will", AT) is None
    raised = await flags.observe(CASE, "nicht mehr leben", AT + timedelta(seconds=5))
    assert raised is not None
    assert asked == [["ich will"], ["nicht mehr leben", "ich will nicht mehr leben"]]


def test_a_flag_is_explained_by_ids_and_score_never_words() -> None:
    from counsel_bot.conversation.crisis_flags import explain

    raised = Assessment(True, "suicide", "medium", ("model.suicide",), 0.873,
                        ("w1-0060", "w4-0012"))
    assert explain(raised) == ("model.suicide", "score=0.87", "near=w1-0060,w4-0012")
    assert explain(Assessment(True, "suicide", "high", ("de.suicide.001",))) == (
        "de.suicide.001",)


async def test_after_a_restart_a_lower_flag_does_not_alert_again(
        detector: CrisisDetector) -> None:
    """The detector's level lives in memory; the router keeps the severity. A restarted bot
    starts from it, so a later medium flag of a conversation raised high stays quiet."""
    restarted = CrisisFlags(detector, WAIT)
    assert await restarted.observe(CASE, "ich ritze mich manchmal", AT, known_tier=3) is None
    fresh = CrisisFlags(detector, WAIT)
    assert await fresh.observe(CASE, "ich ritze mich manchmal", AT) is not None
    higher = await CrisisFlags(detector, WAIT).observe(CASE, "ich will sterben", AT,
                                                         known_tier=1)
    assert higher is not None
    assert higher.severity == "high"
