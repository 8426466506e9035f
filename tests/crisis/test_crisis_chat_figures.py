"""Whole labelled chats (tests/data/crisis/chats_*.jsonl), replayed as the bot judges them.

Sixteen outside writers wrote 40 chats each, every one in another voice: chats_train
(cv5-cv18) is learnt from, chats_dev (cv1, cv2) chose the design, chats_test (cv3, cv4) was
set aside before any chat was written and is pinned here. The figures are what the shipped
head measured (docs/crisis-model.md): no crisis chat may be missed, and the harmless chats'
alerts are a ceiling, not a goal - nearly every harmless chat of an unseen voice still
alerts the staff room once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from counsel_bot.core.crisis import CombinedDetector
from counsel_bot.core.crisis.chat_evaluation import evaluate_chats
from counsel_bot.core.crisis.chats import read_chats
from counsel_bot.core.crisis.evaluation import read_examples

CORPUS = Path(__file__).resolve().parents[1] / "data" / "crisis"
CHATS_TEST_SHA256 = "21257f0ce5249c0654c622b41c4b9a1aeaee36fb7e768f005c7e02bc7218fe95"


def test_the_chat_test_split_is_the_frozen_one() -> None:
    digest = hashlib.sha256((CORPUS / "chats_test.jsonl").read_bytes()).hexdigest()
    assert digest == CHATS_TEST_SHA256


def test_the_chat_splits_share_no_writer_with_each_other_or_the_messages() -> None:
    def writers(name: str) -> set[str]:
        return {chat.source for chat in read_chats(CORPUS / name)}

    train, dev, test = (writers(f"chats_{part}.jsonl") for part in ("train", "dev", "test"))
    assert (len(train), len(dev), len(test)) == (14, 2, 2)
    assert not train & dev
    assert not (train | dev) & test
    assert not (train | dev | test) & writers("chats_review1.jsonl")
    messages = {ex.source for name in ("train", "dev", "test", "test2", "test3")
                for ex in read_examples(CORPUS / f"{name}.jsonl")}
    assert not (train | dev | test) & messages


# Measured with the shipped head: dev 29 of 48 harmless chats alerted, 0.185 of their turns
# flagged, 2 thanked for telling; test 45 of 48, 0.226, 2 thanked (the head before w24's
# short lines: 30 and 0.182, 44 and 0.232; before the chats: 44 and 0.316, 46 and 0.351).
# Before only explicit flags thanked the youth, every alerted chat was thanked.
@pytest.mark.parametrize(("name", "alerted", "turns_flagged", "thanked"),
                         [("chats_dev.jsonl", 30, 0.19, 2), ("chats_test.jsonl", 45, 0.23, 2)])
def test_every_crisis_chat_reaches_a_human_by_its_crisis_turn(
        combined: CombinedDetector, name: str, alerted: int, turns_flagged: float,
        thanked: int) -> None:
    report = evaluate_chats(combined, read_chats(CORPUS / name))
    c = report.overall
    assert (c.crisis, c.harmless) == (32, 48)
    assert report.missed == ()
    assert c.by_the_turn == c.crisis
    assert c.alerted <= alerted
    assert c.harmless_turns_flagged / c.harmless_turns <= turns_flagged
    assert c.thanked <= thanked


def test_an_outside_reviews_crisis_chats_all_reach_a_human(combined: CombinedDetector) -> None:
    # chats_review1.jsonl: two outside reviews (rv1 German, rv2 English), told that the head
    # had learnt ordinary chat lines, wrote 64 crisis chats whose decisive lines look
    # ordinary alone ("die packung liegt neben mir", "no" to "is this for a move home?",
    # "er kommt gleich heim") and 16 harmless look-alikes. The head before the chats brought
    # 63 to a human by their crisis turn, the shipped head 62; both reach all 64 within two
    # more turns. Every harmless look-alike alerts with both.
    report = evaluate_chats(combined, read_chats(CORPUS / "chats_review1.jsonl"))
    c = report.overall
    assert (c.crisis, c.harmless) == (64, 16)
    assert report.missed == ()
    assert c.by_the_turn >= 62
