"""Erased means erased on disk: a raw look at a SQLite database and its -wal and -shm files."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path


def assert_not_on_disk(path: Path, needles: Sequence[str | bytes]) -> None:
    """No table of the database at ``path`` and none of its raw files (database, -wal,
    -shm) holds any needle. Only a prefix of a needle is shown on failure."""
    wanted = [n if isinstance(n, bytes) else n.encode() for n in needles]
    raw = sqlite3.connect(path)
    try:
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in raw.execute(f"SELECT * FROM {table}"):
                for value in row:
                    data = value if isinstance(value, bytes) else str(value).encode()
                    for needle in wanted:
                        assert needle not in data, (table, needle[:20])
    finally:
        raw.close()
    for file in path.parent.iterdir():
        if file.name.startswith(path.name):
            data = file.read_bytes()
            for needle in wanted:
                assert needle not in data, (file.name, needle[:20])
