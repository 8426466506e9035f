"""The labelled corpus the model learns from and is measured on (tests/data/crisis/).

The test split was written by two writers who never saw the training data, in voices unlike
it, and committed before any tuning; its digest is pinned so it cannot change unnoticed.
The figures asserted here are a floor under what was measured (docs/crisis-model.md), so a
change that makes the detector worse on unseen voices fails CI.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from counsel_bot.core.crisis import CombinedDetector
from counsel_bot.core.crisis.evaluation import HARD_NEGATIVE_KINDS, Counts, evaluate, read_examples
from counsel_bot.core.crisis.lexicon import CATEGORIES

CORPUS = Path(__file__).resolve().parents[1] / "data" / "crisis"
TEST_SHA256 = "74dac7cee5ab390e55936968d49889db12db75bcc746869231a94dbb2fe504e2"
# A second test split by two more writers (t3, t4), written and frozen after five looks at
# the first one, before the model was changed again: figures on it are first looks.
TEST2_SHA256 = "a5295d3593ed09990db8b183527166315a3fda01c0815179a5944fc66d2af6d6"
# A third (t5, t6), written after all training writers up to w16 and frozen before any head
# saw the training writers that came with it (w17-w20) or the short-message rule for the
# rules' high flags (combined.py).
TEST3_SHA256 = "a00b7b4c324ee8b75fa2d15a577662d89bf47f8fd1a01ab45db36fcd51da83ea"
# A fourth (t7, t8): short chat lines (1-10 words) as youths type them mid-chat, written
# and frozen before any head saw w24, the short chat-line writer added to training with it.
TEST4_SHA256 = "aff9b6a9500a42e1bf90c9ff68ae4de66e812dc592860990f6681ea21e83f207"
# twins1.jsonl (t9): very short crisis lines of the kinds review3 found missed (a last
# message, an act announced or just done, an assault told without its words, a slang
# threat) and everyday twins in the same words; written to a brief that names situations,
# not wordings, and frozen before the rules written for review3's misses were measured on it.
# A fifth (t10, t11): mixed lengths in voices none of the others wrote (Berlin, Bavarian,
# Cologne, Vienna, Zurich, Glasgow, Geordie, AAVE, Chicano, Indian, Filipino, Nigerian
# English, a psychiatric ward, foster care ...), written to BRIEF.md and frozen before
# anything was measured on it (2026-12-06, with the head shipped since w24).
TEST5_SHA256 = "c7178e74215a1a4dfd1c7c15207d51a53341de2e7d0ff3988939e92575d52ed2"
# A sixth (t12, t13): voices and worlds none of the others wrote (Mainz, Erzgebirge, Sorbian
# Lausitz, Luxembourg, Kazakh-German, Roma, Ukrainian and Eritrean learners, Cornwall, Essex,
# the Ozarks, Trinidad, Zimbabwe, Uganda, British Pakistani, Maori, Cajun, a reservation, a
# deaf youth's BSL-shaped English ...), written to BRIEF.md and frozen before anything was
# measured on it (2026-12-06, before the second-stage experiment of look 19).
TEST6_SHA256 = "8003920b3dc1fde57c4329a2d261ee5e0e1a8dff58d38bf5d9b094b9e37835e1"
TWINS1_SHA256 = "106d2037ee67d41ec64c093bda8c187394bce9498b6ea130158b035a59426fd3"
POSITIVE = {"explicit", "implicit", "obfuscated", "ambivalent"}
NEGATIVE = {"idiom", "resolved", "denied", "near_topic", "plain"}


def test_the_test_split_is_the_frozen_one() -> None:
    digest = hashlib.sha256((CORPUS / "test.jsonl").read_bytes()).hexdigest()
    assert digest == TEST_SHA256, "tests/data/crisis/test.jsonl changed: it is frozen"
    digest = hashlib.sha256((CORPUS / "test2.jsonl").read_bytes()).hexdigest()
    assert digest == TEST2_SHA256, "tests/data/crisis/test2.jsonl changed: it is frozen"
    digest = hashlib.sha256((CORPUS / "test3.jsonl").read_bytes()).hexdigest()
    assert digest == TEST3_SHA256, "tests/data/crisis/test3.jsonl changed: it is frozen"
    digest = hashlib.sha256((CORPUS / "test4.jsonl").read_bytes()).hexdigest()
    assert digest == TEST4_SHA256, "tests/data/crisis/test4.jsonl changed: it is frozen"
    digest = hashlib.sha256((CORPUS / "test5.jsonl").read_bytes()).hexdigest()
    assert digest == TEST5_SHA256, "tests/data/crisis/test5.jsonl changed: it is frozen"
    digest = hashlib.sha256((CORPUS / "test6.jsonl").read_bytes()).hexdigest()
    assert digest == TEST6_SHA256, "tests/data/crisis/test6.jsonl changed: it is frozen"
    digest = hashlib.sha256((CORPUS / "twins1.jsonl").read_bytes()).hexdigest()
    assert digest == TWINS1_SHA256, "tests/data/crisis/twins1.jsonl changed: it is frozen"


@pytest.mark.parametrize(("name", "minimum"), [("train.jsonl", 2500), ("dev.jsonl", 600),
                                               ("test.jsonl", 700),
                                               ("test2.jsonl", 700), ("test3.jsonl", 700),
                                               ("test4.jsonl", 700), ("test5.jsonl", 700),
                                               ("test6.jsonl", 700)])
def test_every_split_covers_languages_categories_and_kinds(name: str, minimum: int) -> None:
    examples = read_examples(CORPUS / name)
    assert len(examples) >= minimum
    assert {e.lang for e in examples} == {"de", "en"}
    assert {e.category for e in examples if e.crisis} == set(CATEGORIES)
    assert {e.kind for e in examples if e.crisis} == POSITIVE
    assert {e.kind for e in examples if not e.crisis} >= NEGATIVE
    assert all(e.source and e.style for e in examples)
    assert len({e.id for e in examples}) == len(examples)


def test_the_splits_share_no_message_and_no_writer() -> None:
    def texts(name: str) -> set[str]:
        # "ok" and "hallo?" are what anybody writes; longer messages must be new.
        return {e.text.strip().casefold() for e in read_examples(CORPUS / name)
                if len(e.text.strip()) > 8}

    def writers(name: str) -> set[str]:
        return {e.source for e in read_examples(CORPUS / name)}

    learnt = texts("train.jsonl") | texts("dev.jsonl")
    assert not texts("test.jsonl") & learnt
    assert not texts("test2.jsonl") & (learnt | texts("test.jsonl"))
    assert not texts("test3.jsonl") & (learnt | texts("test.jsonl") | texts("test2.jsonl"))
    earlier = texts("test.jsonl") | texts("test2.jsonl") | texts("test3.jsonl")
    assert not texts("test4.jsonl") & (learnt | earlier)
    assert not texts("train.jsonl") & texts("dev.jsonl")
    learners = writers("train.jsonl") | writers("dev.jsonl")
    assert not writers("test.jsonl") & learners
    assert not writers("test2.jsonl") & (learners | writers("test.jsonl"))
    assert not writers("test3.jsonl") & (learners | writers("test.jsonl") | writers("test2.jsonl"))
    assert not writers("test4.jsonl") & (learners | writers("test.jsonl") | writers("test2.jsonl")
                                         | writers("test3.jsonl"))
    earlier |= texts("test4.jsonl")
    assert not texts("test5.jsonl") & (learnt | earlier)
    assert not writers("test5.jsonl") & (learners | writers("test.jsonl") | writers("test2.jsonl")
                                         | writers("test3.jsonl") | writers("test4.jsonl"))
    earlier |= texts("test5.jsonl")
    assert not texts("test6.jsonl") & (learnt | earlier)
    assert not writers("test6.jsonl") & (learners | writers("test.jsonl") | writers("test2.jsonl")
                                         | writers("test3.jsonl") | writers("test4.jsonl")
                                         | writers("test5.jsonl"))


def _figures(combined: CombinedDetector, name: str) -> tuple[float, float, float]:
    report = evaluate(combined, read_examples(CORPUS / name))
    hard = Counts()
    for kind, counts in report.by_kind.items():
        if kind in HARD_NEGATIVE_KINDS:
            hard = hard.merged(counts)
    assert report.overall.recall is not None
    assert report.overall.precision is not None
    assert hard.false_flag_rate is not None
    return report.overall.recall, report.overall.precision, hard.false_flag_rate


# Measured with the shipped head (docs/crisis-model.md; recall, precision, hard-negative
# false flags): test 0.966 / 0.853 / 0.162, test2 0.991 / 0.852 / 0.167, test3 0.985 /
# 0.876 / 0.134, test4 (short chat lines) 0.972 / 0.873 / 0.094. The head before w24's
# short lines: 0.966 / 0.853 / 0.152, 0.988 / 0.861 / 0.155, 0.985 / 0.872 / 0.134, and
# on test4 0.940 / 0.899 / 0.055: nine more short crises for ten more false flags there.
# test5 (two later writers, one look): 0.984 / 0.861 / 0.164; test6 (two more): 0.985 / 0.881
# / 0.104.
@pytest.mark.parametrize(("name", "recall", "precision", "false_flags"),
                         [("test.jsonl", 0.965, 0.85, 0.165), ("test2.jsonl", 0.99, 0.85, 0.17),
                          ("test3.jsonl", 0.98, 0.87, 0.135),
                          ("test4.jsonl", 0.97, 0.87, 0.095),
                          ("test5.jsonl", 0.98, 0.86, 0.165),
                          ("test6.jsonl", 0.98, 0.88, 0.105)])
def test_the_shipped_detector_holds_its_measured_figures(
        combined: CombinedDetector, name: str, recall: float, precision: float,
        false_flags: float) -> None:
    found = _figures(combined, name)
    assert found[0] >= recall
    assert found[1] >= precision
    assert found[2] <= false_flags


def test_short_crises_and_their_everyday_twins_hold_their_measured_counts(
        combined: CombinedDetector) -> None:
    # twins1.jsonl: 120 very short crises and 120 everyday twins in the same kind of words
    # (docs/crisis-model.md, look 16). The shipped head flags 115 of the crises and 56 of
    # the twins: a floor and a ceiling, and the second is the detector's weakest figure.
    examples = read_examples(CORPUS / "twins1.jsonl")
    found = combined.assess_many([e.text for e in examples])
    crises = [a.flag for e, a in zip(examples, found, strict=True) if e.crisis]
    twins = [a.flag for e, a in zip(examples, found, strict=True) if not e.crisis]
    assert (len(crises), len(twins)) == (120, 120)
    assert sum(crises) >= 115
    assert sum(twins) <= 56


def test_the_rules_alone_miss_most_unseen_crises(combined: CombinedDetector) -> None:
    rules = evaluate(combined.rules, read_examples(CORPUS / "test.jsonl"))
    assert rules.overall.recall is not None
    assert rules.overall.recall < 0.5


@pytest.mark.parametrize(("name", "sizes", "flagged_crises", "flagged_harmless"), [
    # review1.jsonl: an outside review's attack on a rule change (a past story beside a
    # present danger, colloquial denials that deny nothing, contrasts far behind a denial).
    # That change flagged 77 of its 127 crises and was withdrawn; the shipped detector
    # flags 124 and 14 of the 34 harmless ones (13 before w24's short lines).
    ("review1.jsonl", (127, 34), 124, 14),
    # review2.jsonl: a second review's attack on reading a story as over ("früher ...,
    # heute geht's mir gut"): masking, warning signs that sound resolved ("alles ist
    # geregelt", "wollte mich bedanken"), a danger that moved to a sibling, "aber danke"
    # before a present danger. That change flagged 102 of its 127 crises and was withdrawn;
    # the shipped detector flags all 127 and 30 of the 41 harmless ones.
    ("review2.jsonl", (127, 41), 124, 30),
    # review3.jsonl: another outside review's attack on the head that learnt w24's short chat
    # lines: short crises that read like ordinary chat ("ich spring. sry", "took the whole
    # bottle", "hab nein gesagt aber er hats trotzdem gemacht") and harmless look-alikes.
    # The head before w24 flagged 109 of its 120 crises, the shipped one 112; both 22 of
    # the 40 look-alikes.
    ("review3.jsonl", (120, 40), 112, 22),
    # implicit1.jsonl: an outside writer's implicit warning signs (preparation, goodbye,
    # hints, grooming, a child in danger) and harmless look-alikes (a bike given away
    # after a move, "last message for tonight"); measurement only, never trained on. The
    # head before the fourth round's data flagged 126 and 25, the one before the chats 126
    # and 19, the one before w24's short lines 129 and 18; the shipped one 128 and 19.
    ("implicit1.jsonl", (130, 90), 127, 19),
    # short1.jsonl: an outside writer's short harmless chat lines ("nach dem schwimmen",
    # "night night", "bis morgen vllt"); measurement only, never trained on. The head
    # before the chats flagged 36 of them, the one after them 10, the shipped one 12: a
    # ceiling, not a goal.
    ("short1.jsonl", (0, 240), 0, 12),
])
def test_an_outside_reviews_crisis_messages_stay_flagged(
        combined: CombinedDetector, name: str, sizes: tuple[int, int], flagged_crises: int,
        flagged_harmless: int) -> None:
    # docs/crisis-model.md tells both reviews.
    rows = [json.loads(line) for line in
            (CORPUS / name).read_text(encoding="utf-8").splitlines()]
    found = combined.assess_many([r["text"] for r in rows])
    crises = [a.flag for r, a in zip(rows, found, strict=True) if r["crisis"]]
    harmless = [a.flag for r, a in zip(rows, found, strict=True) if not r["crisis"]]
    assert (len(crises), len(harmless)) == sizes
    assert sum(crises) >= flagged_crises
    assert sum(harmless) <= flagged_harmless
