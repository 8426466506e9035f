"""Crisis-wording detector (German and English): sans-I/O, explainable, rule-based.

Public API::

    detector = CrisisDetector.from_directory(default_lexicon_dir())
    detector.assess(text) -> Assessment(flag, category, severity, rules)
    ConversationRisk(detector).observe(text, at) -> Assessment (non-empty when raised)
    run_check(detector, stdin, stdout) / run_eval(detector, path, stdout)
"""

from counsel_bot.core.crisis.cli import run_check, run_eval
from counsel_bot.core.crisis.conversation import ConversationRisk
from counsel_bot.core.crisis.detector import (
    NO_FLAG,
    Assessment,
    CrisisDetector,
    default_lexicon_dir,
)
from counsel_bot.core.crisis.errors import CrisisError, EvalDataError, LexiconError
from counsel_bot.core.crisis.lexicon import CATEGORIES, SEVERITIES

__all__ = [
    "CATEGORIES",
    "NO_FLAG",
    "SEVERITIES",
    "Assessment",
    "ConversationRisk",
    "CrisisDetector",
    "CrisisError",
    "EvalDataError",
    "LexiconError",
    "default_lexicon_dir",
    "run_check",
    "run_eval",
]
