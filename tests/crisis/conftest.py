from __future__ import annotations

import pytest

from counsel_bot.core.crisis import (
    CombinedDetector,
    CrisisDetector,
    default_lexicon_dir,
    default_model_path,
)


@pytest.fixture(scope="session")
def detector() -> CrisisDetector:
    return CrisisDetector.from_directory(default_lexicon_dir())


@pytest.fixture(scope="session")
def combined() -> CombinedDetector:
    """Rules plus the shipped model, loaded once (about 1.5 s)."""
    return CombinedDetector.load(default_lexicon_dir(), default_model_path())
