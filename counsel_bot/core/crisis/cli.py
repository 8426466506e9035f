"""The two command bodies behind ``counsel crisis check`` and ``counsel crisis eval``.

They take streams so the CLI wiring stays thin and tests need no subprocess.
Nothing here logs or keeps message text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from counsel_bot.core.crisis.chat_evaluation import evaluate_chats, format_chat_report
from counsel_bot.core.crisis.chats import read_chats, training_examples
from counsel_bot.core.crisis.combined import Assessor
from counsel_bot.core.crisis.detector import CrisisDetector
from counsel_bot.core.crisis.encoder import UniversalSentenceEncoder
from counsel_bot.core.crisis.evaluation import (
    Example,
    evaluate,
    fmt,
    format_report,
    pool,
    read_examples,
)
from counsel_bot.core.crisis.training import (
    DEFAULT_TARGET_RECALL,
    EmbeddingCache,
    held_out_by,
    learning_curve,
    train,
)


def run_check(detector: Assessor, stdin: TextIO, stdout: TextIO) -> int:
    """One message per input line -> one JSON object per output line. Returns 0."""
    for line in stdin:
        result = detector.assess(line.rstrip("\r\n"))
        stdout.write(json.dumps(result.to_json_dict(), ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def run_eval(detector: Assessor, path: Path, stdout: TextIO) -> int:
    """Print recall, precision and false-flag rate overall, per kind and per language.

    Returns 0; raises ``EvalDataError`` (with the line number) for a malformed file.
    """
    report = evaluate(detector, read_examples(path))
    stdout.write(format_report(report) + "\n")
    return 0


def run_chat_eval(detector: Assessor, path: Path, stdout: TextIO) -> int:
    """Replay labelled chats turn by turn as the bot judges them; print how many crisis
    chats were caught and how many harmless ones alerted the staff room."""
    stdout.write(format_chat_report(evaluate_chats(detector, read_chats(path))) + "\n")
    return 0


def run_train(rules: CrisisDetector, train_paths: Sequence[Path], dev_path: Path, out: Path,
              stdout: TextIO, target_recall: float = DEFAULT_TARGET_RECALL,
              chat_paths: Sequence[Path] = (), chat_windows: bool = True) -> int:
    """Fit the head on the training files (and the examples labelled chats give), choose
    its thresholds on dev, save it."""
    cache = EmbeddingCache(UniversalSentenceEncoder())
    train_set = [ex for path in train_paths for ex in read_examples(path)]
    dev = read_examples(dev_path)
    chats = [chat for path in chat_paths for chat in read_chats(path)]
    train_set += training_examples(chats, known=[ex.text for ex in train_set + dev],
                                   windows=chat_windows)
    head, report = train(train_set, dev, rules, cache, target_recall)
    head.save(out)
    stdout.write(f"trained on {report.examples} examples; threshold {report.threshold:.2f} "
                 f"(high {report.high_threshold:.2f}); dev recall {report.dev.recall:.3f} "
                 f"precision {report.dev.precision:.3f}; saved {out}\n")
    return 0


def run_crossval(rules: CrisisDetector, paths: Sequence[Path], by: str, stdout: TextIO,
                 target_recall: float = DEFAULT_TARGET_RECALL,
                 chat_paths: Sequence[Path] = ()) -> int:
    """Leave one whole group (writer or style) out, train on the rest, score on it. The
    chats' examples (never scored: other writers) train every fold, as they train the
    shipped head."""
    cache = EmbeddingCache(UniversalSentenceEncoder())
    examples = [ex for path in paths for ex in read_examples(path)]
    chats = [chat for path in chat_paths for chat in read_chats(path)]
    extra = training_examples(chats, known=[ex.text for ex in examples])

    def key(ex: Example) -> str:
        return ex.source if by == "source" else f"{ex.source}/{ex.style}"

    results = held_out_by(key, examples, rules, cache, target_recall, extra)
    stdout.write(f"{'held out':<24}{'n':>6}{'recall':>8}{'precision':>11}{'false-flag':>12}\n")
    for group, report in results.items():
        c = report.overall
        stdout.write(f"{group:<24}{c.n:>6}{fmt(c.recall):>8}{fmt(c.precision):>11}"
                     f"{fmt(c.false_flag_rate):>12}\n")
    pooled, kinds = pool(results.values())
    stdout.write(f"{'pooled':<24}{pooled.n:>6}{fmt(pooled.recall):>8}"
                 f"{fmt(pooled.precision):>11}{fmt(pooled.false_flag_rate):>12}\n")
    for kind in sorted(k for k, c in kinds.items() if c.fp + c.tn):
        stdout.write(f"{'  false flags, ' + kind:<24}{kinds[kind].n:>6}{'':>8}{'':>11}"
                     f"{fmt(kinds[kind].false_flag_rate):>12}\n")
    return 0


def run_curve(rules: CrisisDetector, train_paths: Sequence[Path], dev_path: Path,
              eval_path: Path, stdout: TextIO,
              target_recall: float = DEFAULT_TARGET_RECALL) -> int:
    """Recall and precision on ``eval_path`` as the training data grows."""
    cache = EmbeddingCache(UniversalSentenceEncoder())
    train_set = [ex for path in train_paths for ex in read_examples(path)]
    curve = learning_curve(train_set, read_examples(dev_path), read_examples(eval_path),
                           rules, cache, target_recall=target_recall)
    stdout.write(f"{'training examples':<20}{'recall':>8}{'precision':>11}{'false-flag':>12}\n")
    for n, c in curve:
        stdout.write(f"{n:<20}{fmt(c.recall):>8}{fmt(c.precision):>11}"
                     f"{fmt(c.false_flag_rate):>12}\n")
    return 0
