"""Crisis detector speed: ``python -m bench.detector_throughput``.

Three figures, each beside a baseline measured in the same run (NFKC + case folding of the
same messages), so the ratios survive a slow or busy machine:

- the rules alone, one core (the old detector; goal 20,000 msgs/s);
- rules + model, one message at a time, one core: p50 and p99 per message (goal p99 50 ms);
- rules + model in batches on every core (one process per core, as many as the machine
  has; goal 200 msgs/s on 2 cores).

The messages are the dev split (tests/data/crisis/dev.jsonl), which the model did not learn.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from counsel_bot.core.crisis import (
    CombinedDetector,
    CrisisDetector,
    default_lexicon_dir,
    default_model_path,
)
from counsel_bot.runtime.crisis_detector import load_detector

DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "crisis" / "dev.jsonl"
RULES_TARGET = 20_000
BATCH_TARGET = 200
P99_TARGET_MS = 50.0
BATCH = 32


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


_WORKER: CombinedDetector | None = None


def _load_worker() -> None:
    global _WORKER  # one detector per pool process
    _WORKER = load_detector(default_lexicon_dir(), default_model_path())


def _judge_batch(texts: Sequence[str]) -> int:
    assert _WORKER is not None
    return sum(a.flag for a in _WORKER.assess_many(texts))


def _batched_rate(messages: list[str], processes: int) -> float:
    batches = [messages[i:i + BATCH] for i in range(0, len(messages), BATCH)]
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_load_worker) as pool:
        pool.map(_judge_batch, batches[:processes])  # warm: weights loaded in every process
        start = time.perf_counter()
        pool.map(_judge_batch, batches, chunksize=1)
        return len(messages) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="copies of the dev set (rules)")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with DEV_SET.open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    messages = texts * args.repeat
    rules = CrisisDetector.from_directory(default_lexicon_dir())
    base = _rate(_baseline, messages, args.rounds)
    rules_rate = _rate(rules.assess, messages, args.rounds)
    combined = load_detector(default_lexicon_dir(), default_model_path())
    latencies: list[float] = []
    for text in texts:
        start = time.perf_counter()
        combined.assess(text)
        latencies.append((time.perf_counter() - start) * 1000)
    single_rate = len(texts) / (sum(latencies) / 1000)
    batched = _batched_rate(texts * 2, args.processes)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"{len(texts)} dev-split messages; rules: x{args.repeat}, best of {args.rounds}")
    print(f"{'stage':<44}{'msgs/s':>10}{'vs baseline':>13}")
    print(f"{'baseline NFKC+casefold, one core':<44}{base:>10,.0f}{1.0:>12.3f}x")
    print(f"{'rules alone, one core':<44}{rules_rate:>10,.0f}{rules_rate / base:>12.5f}x")
    print(f"{'rules + model, one at a time, one core':<44}{single_rate:>10,.0f}"
          f"{single_rate / base:>12.5f}x")
    print(f"{f'rules + model, batches of {BATCH}, {args.processes} processes':<44}"
          f"{batched:>10,.0f}{batched / base:>12.5f}x")
    print(f"per message, rules + model: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(latencies):.1f} ms")
    verdicts = [("rules", rules_rate >= RULES_TARGET, f">= {RULES_TARGET:,} msgs/s"),
                ("batched", batched >= BATCH_TARGET, f">= {BATCH_TARGET} msgs/s"),
                ("p99", p99 <= P99_TARGET_MS, f"<= {P99_TARGET_MS:.0f} ms")]
    for name, ok, goal in verdicts:
        print(f"target {name} {goal}: {'meets' if ok else 'MISSES'}")
    return 0 if all(ok for _, ok, _ in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
