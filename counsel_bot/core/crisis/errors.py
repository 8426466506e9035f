"""Errors of the crisis detector.

Messages name files, rule ids and line numbers so office staff can fix a lexicon;
they never contain message text.
"""

from __future__ import annotations

from pathlib import Path


class CrisisError(Exception):
    """Base class for everything the crisis package raises on purpose."""


class LexiconError(CrisisError):
    """A lexicon file is missing, unreadable or breaks the rules of the format."""

    def __init__(self, path: Path, where: str, problem: str) -> None:
        self.path = path
        self.where = where
        self.problem = problem
        super().__init__(
            f"crisis lexicon {path} ({where}): {problem}. "
            "Fix the file (see config/crisis/README.md for the format) and reload."
        )


class EvalDataError(CrisisError):
    """A line of an evaluation file is not the expected JSON object."""

    def __init__(self, path: Path, line_no: int, problem: str) -> None:
        """``line_no`` 0 means the file as a whole (it could not be opened)."""
        self.path = path
        self.line_no = line_no
        if line_no == 0:
            super().__init__(f"{path} {problem}; give the path of a JSONL evaluation file")
            return
        super().__init__(
            f"{path}, line {line_no}: {problem}. Each line must be a JSON object with "
            'keys "id", "lang", "text", "label" ("crisis" or "none"), "category", "kind".'
        )


class ModelError(CrisisError):
    """The semantic model file or its encoder cannot be used."""
