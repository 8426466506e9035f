"""A bot's data directory backed up and restored (`counsel backup` / `counsel restore`), as
the tests of what a restore brings back do it: cheap key derivation, the directory moved
away as on a lost machine."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from counsel_bot.runtime.backup import make_backup, restore_backup
from e2e.vault import KdfParams
from tests.support.bot_harness import BotProcess

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def backup_of(process: BotProcess, tmp: Path) -> Path:
    """A backup of the (stopped) bot's data directory, into ``tmp``/backups."""
    return make_backup(process.layout.root, tmp / "backups", "pw", datetime.now(),
                       keep_days=0, params=CHEAP).path


def restore(backup: Path, process: BotProcess, tmp: Path) -> None:
    """The bot's data directory lost (moved to ``tmp``/lost), and restored from ``backup``."""
    shutil.move(process.layout.root, tmp / "lost")
    restore_backup(backup, process.layout.root, "pw")
