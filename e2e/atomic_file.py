"""Durable, atomic writes of small secret files (mode 0600).

A crash mid-write must leave either the old file or the new one, never a torn vault: the
bytes go to a temporary file in the same directory, are fsynced, and are then renamed (or
linked, for an exclusive create) over the target; the directory is fsynced so the rename
itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

SECRET_FILE_MODE = 0o600


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(path.parent)


def create_exclusively(path: Path, data: bytes) -> None:
    """Write ``path`` only if it does not exist yet; raises ``FileExistsError`` otherwise.

    ``os.link`` fails if the target exists, so two processes creating the same file cannot
    both win, which a check-then-rename would allow.
    """
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
    finally:
        _remove_quietly(tmp)
    _fsync_dir(path.parent)


def _write_temp(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    try:
        # The umask can only narrow the mode; fchmod makes 0600 exact either way.
        os.fchmod(fd, SECRET_FILE_MODE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _remove_quietly(tmp)
        raise
    os.close(fd)
    return tmp


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
