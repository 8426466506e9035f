"""Scoring the detector on a labelled JSONL file (recall first, then precision)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from counsel_bot.core.crisis.combined import Assessor
from counsel_bot.core.crisis.errors import EvalDataError

_REQUIRED = ("id", "lang", "text", "label", "kind")


@dataclass(frozen=True)
class Example:
    id: str
    lang: str
    text: str
    crisis: bool
    category: str | None
    kind: str
    # Who wrote it and in which style: cross-validation holds out whole groups of these.
    source: str = ""
    style: str = ""


# Negative kinds that look like risk on the surface: idioms, and risk that is resolved or
# credibly denied (the older sets call the latter "negated").
HARD_NEGATIVE_KINDS = frozenset({"idiom", "resolved", "denied", "negated"})
BATCH = 64


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, crisis: bool, flagged: bool) -> Counts:
        return Counts(self.tp + (crisis and flagged), self.fn + (crisis and not flagged),
                      self.fp + (not crisis and flagged), self.tn + (not crisis and not flagged))

    def merged(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp,
                      self.tn + other.tn)

    @property
    def n(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    @property
    def recall(self) -> float | None:
        positives = self.tp + self.fn
        return self.tp / positives if positives else None

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def false_flag_rate(self) -> float | None:
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else None


@dataclass(frozen=True)
class Report:
    overall: Counts
    by_kind: dict[str, Counts]
    by_lang: dict[str, Counts]
    by_category: dict[str, Counts]
    misses: tuple[str, ...]
    false_flags: tuple[str, ...]


def pool(reports: Iterable[Report]) -> tuple[Counts, dict[str, Counts]]:
    """Overall and per-kind counts summed over several reports (the held-out groups of a
    cross-validation: each message judged by a head that never saw its group)."""
    overall = Counts()
    kinds: dict[str, Counts] = {}
    for report in reports:
        overall = overall.merged(report.overall)
        for kind, counts in report.by_kind.items():
            kinds[kind] = kinds.get(kind, Counts()).merged(counts)
    return overall, kinds


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """Each non-empty line of a JSON Lines file, parsed, with its line number."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise EvalDataError(path, 0, f"cannot be read ({exc.strerror})") from None
    with handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(path, line_no, f"not JSON ({exc.msg})") from exc


def read_examples(path: Path) -> list[Example]:
    examples: list[Example] = []
    for line_no, raw in json_lines(path):
        if not isinstance(raw, dict) or any(k not in raw for k in _REQUIRED):
            raise EvalDataError(path, line_no, "missing keys")
        if raw["label"] not in ("crisis", "none") or not isinstance(raw["text"], str):
            raise EvalDataError(path, line_no, 'label must be "crisis" or "none"')
        category = raw.get("category")
        examples.append(Example(str(raw["id"]), str(raw["lang"]), raw["text"],
                                raw["label"] == "crisis",
                                category if isinstance(category, str) else None,
                                str(raw["kind"]), str(raw.get("source", "")),
                                str(raw.get("style", ""))))
    return examples


def flags(detector: Assessor, examples: Sequence[Example]) -> list[bool]:
    out: list[bool] = []
    for start in range(0, len(examples), BATCH):
        batch = examples[start:start + BATCH]
        out += [a.flag for a in detector.assess_many([ex.text for ex in batch])]
    return out


def evaluate(detector: Assessor, examples: Iterable[Example]) -> Report:
    examples = list(examples)
    overall = Counts()
    by_kind: dict[str, Counts] = {}
    by_lang: dict[str, Counts] = {}
    by_category: dict[str, Counts] = {}
    misses: list[str] = []
    false_flags: list[str] = []
    for ex, flagged in zip(examples, flags(detector, examples), strict=True):
        overall = overall.add(ex.crisis, flagged)
        by_kind[ex.kind] = by_kind.get(ex.kind, Counts()).add(ex.crisis, flagged)
        by_lang[ex.lang] = by_lang.get(ex.lang, Counts()).add(ex.crisis, flagged)
        if ex.crisis and ex.category:
            by_category[ex.category] = by_category.get(ex.category, Counts()).add(True, flagged)
        if ex.crisis and not flagged:
            misses.append(ex.id)
        elif flagged and not ex.crisis:
            false_flags.append(ex.id)
    return Report(overall, dict(sorted(by_kind.items())), dict(sorted(by_lang.items())),
                  dict(sorted(by_category.items())), tuple(misses), tuple(false_flags))


def fmt(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def format_report(report: Report) -> str:
    header = f"{'group':<24}{'n':>5}{'crisis':>8}{'recall':>8}{'precision':>11}{'false-flag':>12}"
    lines = [header, "-" * len(header)]

    def row(name: str, c: Counts) -> None:
        lines.append(f"{name:<24}{c.n:>5}{c.tp + c.fn:>8}{fmt(c.recall):>8}"
                     f"{fmt(c.precision):>11}{fmt(c.false_flag_rate):>12}")

    row("overall", report.overall)
    hard = Counts()
    for kind, counts in report.by_kind.items():
        if kind in HARD_NEGATIVE_KINDS:
            hard = hard.merged(counts)
    if hard.n:
        row("hard negatives", hard)
    for title, groups in (("kind", report.by_kind), ("lang", report.by_lang),
                          ("category", report.by_category)):
        lines.append("")
        for name, counts in groups.items():
            row(f"{title}={name}", counts)
    lines.append("")
    lines.append("missed ids: " + (", ".join(report.misses) or "none"))
    lines.append("false-flag ids: " + (", ".join(report.false_flags) or "none"))
    return "\n".join(lines)
