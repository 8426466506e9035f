"""Crisis-wording detector (German and English): explainable rules plus a semantic model.

Public API::

    detector = CombinedDetector.load(default_lexicon_dir(), default_model_path())
    detector.assess(text) -> Assessment(flag, category, severity, rules, score, nearest)
    ConversationRisk(detector).observe(text, at) -> Assessment (non-empty when raised)
    run_check(detector, stdin, stdout) / run_eval(detector, path, stdout)
    run_chat_eval(detector, chats_path, stdout): whole chats replayed turn by turn
"""

from counsel_bot.core.crisis.cli import (
    run_chat_eval,
    run_check,
    run_crossval,
    run_curve,
    run_eval,
    run_train,
)
from counsel_bot.core.crisis.combined import Assessor, CombinedDetector
from counsel_bot.core.crisis.conversation import ConversationRisk
from counsel_bot.core.crisis.detector import (
    NO_FLAG,
    Assessment,
    CrisisDetector,
    default_lexicon_dir,
)
from counsel_bot.core.crisis.errors import CrisisError, EvalDataError, LexiconError, ModelError
from counsel_bot.core.crisis.lexicon import CATEGORIES, SEVERITIES
from counsel_bot.core.crisis.semantic import default_model_path

__all__ = [
    "CATEGORIES",
    "NO_FLAG",
    "SEVERITIES",
    "Assessment",
    "Assessor",
    "CombinedDetector",
    "ConversationRisk",
    "CrisisDetector",
    "CrisisError",
    "EvalDataError",
    "LexiconError",
    "ModelError",
    "default_lexicon_dir",
    "default_model_path",
    "run_chat_eval",
    "run_check",
    "run_crossval",
    "run_curve",
    "run_eval",
    "run_train",
]
