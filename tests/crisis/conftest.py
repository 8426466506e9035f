from __future__ import annotations

import pytest

from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir


@pytest.fixture(scope="session")
def detector() -> CrisisDetector:
    return CrisisDetector.from_directory(default_lexicon_dir())
