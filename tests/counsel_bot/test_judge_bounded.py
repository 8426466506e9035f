"""The model judges in a worker thread while the conductor's step lock is held: a judge
that hung (a pathological input, a BLAS deadlock) held every youth and every alert still
to be raised for as long as it hung. The crisis-path review (2026-12-06) named it; now the
model has a bounded time, after which the rules alone judge the message."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from random import Random

from counsel_bot.core.crisis import (
    Assessment,
    CombinedDetector,
    CrisisDetector,
    default_lexicon_dir,
)
from counsel_bot.core.crisis.semantic import default_model_path
from counsel_bot.runtime.crisis_detector import bounded_judge, load_detector
from homeserver_bridge.mail import unwrapped_and_written


class HangingModel(CombinedDetector):
    """The rules, and a model that does not answer until released."""

    def __init__(self) -> None:
        super().__init__(CrisisDetector.from_directory(default_lexicon_dir()), None)
        self.release = threading.Event()

    def with_model(self, texts: Sequence[str], ruled: Sequence[Assessment]) -> list[Assessment]:
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

    def with_model(self, texts: Sequence[str], ruled: Sequence[Assessment]) -> list[Assessment]:
        self.asked += 1
        return super().with_model(texts, ruled)


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


def hard_wrapped_mail(size: int) -> str:
    """A youth's letter of ``size`` characters as Gmail's plain-text mode sends it: broken
    at about 72 characters, no clause ends; its last line the crisis."""
    random = Random(7)
    words = ["heute", "wieder", "schule", "mama", "streit", "keine", "ahnung", "warum",
             "freundin", "handy", "abends", "zimmer", "lehrerin", "mathe", "bruder"]
    lines: list[str] = []
    written = 0
    while written < size:
        line = ""
        while len(line) < 66:
            # Made-up words too: every one the spelling correction has to look at.
            word = random.choice(words) if random.random() < 0.5 else "".join(
                random.choice("aeiounrstlmhkd") for _ in range(random.randint(3, 9)))
            line = f"{line} {word}".strip()
        lines.append(line)
        written += len(line) + 1
    lines.append("ich will mich heute umbringen")
    return "\n".join(lines)


async def test_a_huge_mail_judged_by_the_rules_alone_leaves_the_event_loop_free() -> None:
    """With the model hung, the rules judged inline on the event loop: a 1 MiB hard-wrapped
    mail, read both ways its lines may be joined (`unwrapped_and_written`: 2 MiB), held
    the loop for seconds (2 to 4 s on a 2-core machine, 7 s when it is busy). Every other
    youth's message, the outbox's crisis alerts, the SMTP server and the dashboard waited.
    Now the rules judge off the loop; the crisis words at the end still raise the flag.
    The bound is generous (the loop is free between the rules' steps, a few ms)."""
    detector = HangingModel()
    judge = bounded_judge(detector, limit=0.1)
    text = unwrapped_and_written(hard_wrapped_mail(1024 * 1024))
    stalls: list[float] = []
    done = asyncio.Event()

    async def ticking() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            stalls.append(now - last)
            last = now

    ticker = asyncio.create_task(ticking())
    try:
        [verdict] = await asyncio.wait_for(judge([text]), timeout=120)
    finally:
        done.set()
        detector.release.set()
        await ticker
    assert verdict.flag, "the crisis words at the end of the long mail were not read"
    assert max(stalls) < 1.0, f"the event loop stood still for {max(stalls):.1f} s"



class SlowRules(CrisisDetector):
    """The shipped rules, slowed as on a busy machine: a 1 MiB hard-wrapped mail, read
    both ways, takes them 4.4 s on a loaded 2-core machine, and the model 1.2 s more; two
    such mails at once took 7.5 and 8.0 s each (rules and model), the judge's limit 10 s."""

    def __init__(self, delay: float) -> None:
        rules = CrisisDetector.from_directory(default_lexicon_dir())
        self.__dict__.update(rules.__dict__)
        self.delay = delay

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        time.sleep(self.delay)
        return super().assess_many(texts)


async def test_slow_rules_do_not_make_a_prompt_model_count_as_hung() -> None:
    """The limit is for a model that hung; the rules judged inside it. Rules slowed by a
    long mail on a busy machine took the whole limit, and the model, which answered in
    time, was taken as hung: the message and every message after it until the thread
    ended were judged by the rules alone (what only the model reads went unflagged, for
    every youth), and the long mail was read by the rules a second time. The shipped
    model; its score is in its verdict only (the rules give none)."""
    detector = load_detector(default_lexicon_dir(), default_model_path())
    detector.assess_many(["warm"])  # the encoder's first pass, outside the limit
    detector.rules = SlowRules(delay=1.5)
    judge = bounded_judge(detector, limit=1.0)
    [verdict] = await asyncio.wait_for(judge(["ich bring mich heute um"]), timeout=30)
    assert verdict.flag
    assert verdict.score is not None, "the model answered in time and was not heard"
    [verdict] = await asyncio.wait_for(judge(["ich bring mich heute um"]), timeout=30)
    assert verdict.score is not None, "the next message was judged by the rules alone"


class FailingModel(CombinedDetector):
    """The rules, and a model that fails on the text (an input its encoder cannot take,
    memory run out on a long mail)."""

    def __init__(self) -> None:
        super().__init__(CrisisDetector.from_directory(default_lexicon_dir()), None)

    def with_model(self, texts: Sequence[str], ruled: Sequence[Assessment]) -> list[Assessment]:
        raise MemoryError


async def test_a_failing_model_leaves_the_message_to_the_rules() -> None:
    """A model that raised took the rules' verdict down with it: the youth's chat message
    failed its step (twice, then set aside unjudged), and a mail was refused with 451 until
    the youth's provider gave up, crisis words and all, though the rules had read them."""
    judge = bounded_judge(FailingModel(), limit=2)
    [verdict] = await asyncio.wait_for(judge(["ich bring mich heute um"]), timeout=5)
    assert verdict.flag
    assert verdict.severity == "high"
