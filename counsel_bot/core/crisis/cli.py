"""The two command bodies behind ``counsel crisis check`` and ``counsel crisis eval``.

They take streams so the CLI wiring stays thin and tests need no subprocess.
Nothing here logs or keeps message text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from counsel_bot.core.crisis.detector import CrisisDetector
from counsel_bot.core.crisis.evaluation import evaluate, format_report, read_examples


def run_check(detector: CrisisDetector, stdin: TextIO, stdout: TextIO) -> int:
    """One message per input line -> one JSON object per output line. Returns 0."""
    for line in stdin:
        result = detector.assess(line.rstrip("\r\n"))
        stdout.write(json.dumps(result.to_json_dict(), ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def run_eval(detector: CrisisDetector, path: Path, stdout: TextIO) -> int:
    """Print recall, precision and false-flag rate overall, per kind and per language.

    Returns 0; raises ``EvalDataError`` (with the line number) for a malformed file.
    """
    report = evaluate(detector, read_examples(path))
    stdout.write(format_report(report) + "\n")
    return 0
