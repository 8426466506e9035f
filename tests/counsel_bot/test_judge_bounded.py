"""The model judges in a worker thread while the conductor's step lock is held: a judge
that hung (a pathological input, a BLAS deadlock) held every youth and every alert still
to be raised for as long as it hung. The crisis-path review (2026-12-06) named it; now the
model has a bounded time, after which the rules alone judge the message."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

from counsel_bot.core.crisis import (
    Assessment,
    CombinedDetector,
    CrisisDetector,
    default_lexicon_dir,
)
from counsel_bot.runtime.crisis_detector import bounded_judge


class HangingModel(CombinedDetector):
    """The rules, and a model that does not answer until released."""

    def __init__(self) -> None:
        super().__init__(CrisisDetector.from_directory(default_lexicon_dir()), None)
        self.release = threading.Event()

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        self.release.wait(timeout=5)
        return [Assessment(False, None, None, ()) for _ in texts]


async def test_a_hanging_model_leaves_the_message_to_the_rules_in_bounded_time() -> None:
    detector = HangingModel()
    judge = bounded_judge(detector, limit=0.2)
    started = time.monotonic()
    try:
        [verdict] = await asyncio.wait_for(judge(["ich bring mich heute um"]), timeout=3)
    finally:
        detector.release.set()
    assert time.monotonic() - started < 2
    assert verdict.flag
    assert verdict.severity == "high"


async def test_a_model_in_time_is_the_verdict() -> None:
    detector = HangingModel()
    detector.release.set()
    [verdict] = await bounded_judge(detector, limit=2)(["ich bring mich heute um"])
    assert not verdict.flag  # the (fake) model's answer, not the rules'


class CountingHangingModel(HangingModel):
    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        self.asked += 1
        return super().assess_many(texts)


async def test_a_model_still_hanging_is_not_asked_again() -> None:
    """Each message gave the hung model another worker thread and waited out the whole
    limit under the step lock: a burst of youth messages held every alert for the limit
    times their number, and the hung threads filled the loop's default executor (the
    one that also resolves the homeserver's and the relay's names)."""
    detector = CountingHangingModel()
    judge = bounded_judge(detector, limit=0.2)
    try:
        for _ in range(3):
            [verdict] = await asyncio.wait_for(judge(["ich bring mich heute um"]), timeout=3)
            assert verdict.flag
        assert detector.asked == 1
    finally:
        detector.release.set()

    async def answered() -> None:
        while True:
            [verdict] = await judge(["ich bring mich heute um"])
            if not verdict.flag:  # the (fake) model's answer again
                return
            await asyncio.sleep(0.05)
    await asyncio.wait_for(answered(), timeout=3)
