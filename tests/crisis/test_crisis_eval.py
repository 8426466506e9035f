"""The figures the issue asks for, enforced so a lexicon regression fails CI.

The held-out set was written before the lexicon was tuned on the dev set and is never
used for tuning; keep it that way when you edit the lexicons.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from counsel_bot.core.crisis import CrisisDetector, EvalDataError, run_check, run_eval
from counsel_bot.core.crisis.evaluation import Report, evaluate, read_examples

DATA = Path(__file__).resolve().parents[1] / "data"
KINDS = {"explicit", "implicit", "obfuscated", "negated", "idiom", "context_ok", "plain"}


def report(detector: CrisisDetector, name: str) -> Report:
    return evaluate(detector, read_examples(DATA / name))


@pytest.mark.parametrize("name", ["crisis_dev.jsonl", "crisis_heldout.jsonl"])
def test_targets(detector: CrisisDetector, name: str) -> None:
    r = report(detector, name)
    assert r.overall.recall is not None
    assert r.overall.recall >= 0.97
    assert r.overall.precision is not None
    assert r.overall.precision >= 0.85
    for kind in ("idiom", "negated"):
        rate = r.by_kind[kind].false_flag_rate
        assert rate is not None, kind
        assert rate <= 0.10, kind


@pytest.mark.parametrize(("name", "minimum"), [("crisis_dev.jsonl", 390),
                                               ("crisis_heldout.jsonl", 195)])
def test_sets_are_balanced(name: str, minimum: int) -> None:
    examples = read_examples(DATA / name)
    assert len(examples) >= minimum
    assert {e.kind for e in examples} == KINDS
    for lang in ("de", "en"):
        share = sum(e.lang == lang for e in examples) / len(examples)
        assert 0.45 <= share <= 0.55


def test_sets_do_not_overlap() -> None:
    # Exact text: two held-out lines are dev lines in capitals, testing case folding.
    dev = {e.text for e in read_examples(DATA / "crisis_dev.jsonl")}
    held = {e.text for e in read_examples(DATA / "crisis_heldout.jsonl")}
    assert not dev & held


def test_run_check_writes_one_json_line_per_message(detector: CrisisDetector) -> None:
    out = io.StringIO()
    assert run_check(detector, io.StringIO("ich will sterben\nhallo\r\n\n"), out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    assert lines[0]["flag"] is True
    assert lines[0]["category"] == "suicide"
    assert lines[1] == {"flag": False, "category": None, "severity": None, "rules": []}


def test_run_eval_prints_table(detector: CrisisDetector) -> None:
    out = io.StringIO()
    assert run_eval(detector, DATA / "crisis_heldout.jsonl", out) == 0
    text = out.getvalue()
    for needle in ("recall", "precision", "false-flag", "kind=idiom", "lang=de", "lang=en"):
        assert needle in text


def test_run_eval_rejects_bad_lines(detector: CrisisDetector, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1"}\n', encoding="utf-8")
    with pytest.raises(EvalDataError, match="line 1"):
        run_eval(detector, bad, io.StringIO())
