"""A 64 KB message must be handled in bounded time: the bot has one event loop, so a message
that takes seconds stalls every other youth's conversation for that long.

Checked at 16 KB first, so a quadratic path fails in about a second instead of a minute.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from functools import cache

import pytest

from counsel_bot.core import commands as cmd
from counsel_bot.core.crisis import ConversationRisk, CrisisDetector, default_lexicon_dir
from tests.fuzz.hostile import MAX_BODY

SMALL, SMALL_BUDGET, FULL_BUDGET = 16 * 1024, 0.1, 1.0

_letters = "".join(random.Random(8).choices("abcdefghijklmnopqrstuvwxyz", k=MAX_BODY))
FLOODS = {
    "one letter": "a" * MAX_BODY,
    "two letters": "ab" * (MAX_BODY // 2),
    "random letters": _letters,
    "letters and digits": "a1" * (MAX_BODY // 2),
    "spaced letters": "a " * (MAX_BODY // 2),
    "dotted letters": "a." * (MAX_BODY // 2),
    "words": "ich will nicht mehr leben " * (MAX_BODY // 25),
    "digits": "7" * MAX_BODY,
    "zero-width": "\u200b" * MAX_BODY,
    "rtl override": "\u202eabc " * (MAX_BODY // 5),
}


@cache
def detector() -> CrisisDetector:
    return CrisisDetector.from_directory(default_lexicon_dir())


def handling_time(body: str) -> float:
    """The best of three, in this process's CPU time: a garbage collection or a busy CI
    machine pausing one run says nothing about the code's path, which is what the budget is
    for."""
    return min(_once(body) for _ in range(3))


def _once(body: str) -> float:
    start = time.process_time()
    ConversationRisk(detector()).observe(body, datetime(2026, 3, 2, tzinfo=UTC))
    cmd.parse_youth(body)
    cmd.parse_staff(body)
    return time.process_time() - start


@pytest.mark.parametrize("name", sorted(FLOODS))
def test_a_64_kb_message_is_handled_in_bounded_time(name: str) -> None:
    body = FLOODS[name][:MAX_BODY]
    detector()
    small = handling_time(body[:SMALL])
    assert small < SMALL_BUDGET, f"{name}: 16 KB took {small:.2f} s"
    full = handling_time(body)
    assert full < FULL_BUDGET, f"{name}: 64 KB took {full:.2f} s"
