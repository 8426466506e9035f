"""Crisis detector throughput on one core: ``python -m bench.detector_throughput``.

Runs the dev set repeated and compares with a baseline measured in the same run
(NFKC + case folding of the same messages), so the ratio survives slow machines.
"""

from __future__ import annotations

import argparse
import json
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir

DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "crisis_dev.jsonl"
TARGET = 20_000


def _rate(fn: Callable[[str], object], messages: list[str], rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for text in messages:
            fn(text)
        best = max(best, len(messages) / (time.perf_counter() - start))
    return best


def _baseline(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50, help="copies of the dev set")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    with DEV_SET.open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    messages = texts * args.repeat
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    base = _rate(_baseline, messages, args.rounds)
    norm = _rate(detector.normalise, messages, args.rounds)
    full = _rate(detector.assess, messages, args.rounds)
    print(f"{len(messages)} messages ({len(texts)} dev-set lines x {args.repeat}), "
          f"best of {args.rounds}, one core")
    print(f"{'stage':<28}{'msgs/s':>12}{'vs baseline':>14}")
    for name, rate in (("baseline NFKC+casefold", base), ("normalise only", norm),
                       ("assess (full detector)", full)):
        print(f"{name:<28}{rate:>12,.0f}{rate / base:>13.3f}x")
    verdict = "meets" if full >= TARGET else "MISSES"
    print(f"target {TARGET:,} msgs/s: {verdict}")
    return 0 if full >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
