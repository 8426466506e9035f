"""A backup of a data directory as one passphrase-sealed file, and its restore.

Made beside the running service: each SQLite database (Synapse's, the bot's store) is
copied through SQLite's own backup API, which gives a consistent copy while the service
writes, and never as raw files (a copy of a database and its write-ahead log taken at two
moments may not open). Everything else (keys, secrets, the vault, media) is copied as it
is. The result is sealed under a passphrase of its own (`e2e.sealed_stream`): Synapse's
database holds who talked to whom and when, in plain form, even though messages are
end-to-end encrypted.

A restore writes into a new directory only, and only once the whole backup opened: a cut
or altered file leaves nothing behind. The restored bot logs in as a new device at its next
start (`session.RESTORED_MARKER`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from counsel_bot.channels import erasure_journal
from counsel_bot.channels.matrix.session import RESTORED_MARKER, mark_restored
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.data_lock import (
    BACKUP_LOCK,
    BOT_LOCK,
    UP_LOCK,
    DataDirInUse,
    backup_exclusive,
)
from e2e.sealed_stream import OpeningReader, SealingWriter
from e2e.vault import KdfParams
from homeserver_bridge.paths import DataLayout

SUFFIX = ".counsel-backup"
_STAMP = "%Y%m%d-%H%M%S"
_SQLITE_MAGIC = b"SQLite format 3\x00"
# What a running service leaves beside its files: locks, SQLite's journals (the databases
# are copied through SQLite instead), half-written files of an atomic write.
_SKIPPED_NAMES = frozenset({UP_LOCK, BOT_LOCK, BACKUP_LOCK})
_SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")
_SCRATCH = ".backup-scratch"
# What a database's copy must leave free on the data directory's disk, for the service.
_RESERVE = 128 * 1_048_576
_PARTIAL = ".partial"  # a backup being written, or one killed while it was


class BackupError(BotError):
    """A backup or a restore that cannot be made; nothing was changed."""


@dataclass(frozen=True)
class BackupMade:
    path: Path
    files: int
    databases: int
    size: int
    pruned: tuple[Path, ...]

    def describe(self) -> str:
        lines = [f"backup written: {self.path} ({self.files} files, {self.databases} "
                 f"databases, {self.size / 1_048_576:.1f} MiB sealed)"]
        lines += [f"older backup deleted: {old}" for old in self.pruned]
        return "\n".join(lines)


def make_backup(data: Path, target: Path, passphrase: str, now: datetime, *,
                keep_days: int, params: KdfParams | None = None) -> BackupMade:
    """Seal ``data`` into a new file in ``target``; delete backups there made more than
    ``keep_days`` days before ``now`` (0: keep all)."""
    try:
        with backup_exclusive(data.resolve()):
            # What a backup killed midway left (Synapse's database in plain form, rooms
            # purged since among it): gone first, whatever this one's fate.
            shutil.rmtree(data.resolve() / _SCRATCH, ignore_errors=True)
            return _make_backup(data, target, passphrase, now, keep_days, params)
    except DataDirInUse as exc:
        raise BackupError(str(exc)) from None
    except OSError as exc:
        # A full disk, a backups' disk not mounted, a file where a directory should be.
        raise BackupError(f"cannot make the backup ({_where(exc)}); check that {target} is "
                          "a directory on a disk with room, and that this user can read the "
                          "data directory and write there") from None


def _where(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc.strerror)


def _make_backup(data: Path, target: Path, passphrase: str, now: datetime, keep_days: int,
                 params: KdfParams | None) -> BackupMade:
    data, target = data.resolve(), target.resolve()
    if target == data or data in target.parents:
        raise BackupError(f"the backup directory {target} is inside the data directory; "
                          "a backup is for when that directory is lost: choose one on "
                          "another disk")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = target / f"counsel-{now:{_STAMP}}{SUFFIX}"
    if path.exists():
        raise BackupError(f"{path} exists already; wait a second and run it again")
    partial = path.with_name(path.name + _PARTIAL)
    scratch = data / _SCRATCH
    scratch.mkdir(mode=0o700)
    files = databases = 0
    try:
        with open(partial, "wb") as sink:
            writer = SealingWriter(sink, passphrase, params)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT,
                              dereference=True) as tar:
                for source, inside in _entries(data, leave_out=target):
                    name = source.relative_to(data).as_posix()
                    try:
                        kind = _add(tar, source, name, inside, scratch / f"{databases + 1}.db")
                    except FileNotFoundError:
                        # Deleted since the listing (a purge's media): nothing of it was
                        # written yet, and a file deleted is not in the backup.
                        continue
                    files += kind != "directory"
                    databases += kind == "database"
            writer.close()  # its final chunk: without it the backup reads as cut short
            sink.flush()
            os.fsync(sink.fileno())
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return BackupMade(path, files, databases, path.stat().st_size,
                      _prune(target, now, keep_days, path))


def _add(tar: tarfile.TarFile, source: Path, name: str, inside: str | None,
         copy: Path) -> str:
    """Put one entry into ``tar``; what it was. A file gone meanwhile raises
    FileNotFoundError before anything of it is written."""
    if inside is not None:
        tar.addfile(_link(name, inside))
        return "link"
    if source.is_dir():
        tar.add(source, arcname=name, recursive=False, filter=_anonymous)
        return "directory"
    if not _is_sqlite(source):
        tar.add(source, arcname=name, filter=_anonymous)
        return "file"
    try:
        _copy_database(source, copy)
        tar.add(copy, arcname=name, filter=_anonymous)
    finally:
        copy.unlink(missing_ok=True)
    return "database"


def restore_backup(archive: Path, data: Path, passphrase: str) -> int:
    """Open ``archive`` into ``data``, which must not exist or be empty; the number of
    files restored."""
    if data.exists() and (not data.is_dir() or any(data.iterdir())):
        raise BackupError(f"{data} is not empty; restore into a new directory (and stop "
                          "the service before you put it in place of the old one)")
    try:
        source = open(archive, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise BackupError(f"cannot read {archive} ({exc.strerror})") from None
    try:
        with source:
            return _restore(archive, source, data, passphrase)
    except OSError as exc:
        raise BackupError(f"cannot restore into {data} ({_where(exc)}); restore into a new "
                          "directory on a disk with room, which this user can write") from None


def _restore(archive: Path, source: BinaryIO, data: Path, passphrase: str) -> int:
    staging = data.parent / f".{data.name}.restoring-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700, parents=True)
    files = 0
    try:
        reader = OpeningReader(source, passphrase, name=str(archive))
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                # "data" refuses absolute names, "..", links out and device files.
                tar.extract(member, staging, filter="data")
                files += member.isfile()
        reader.verify_end()
        for directory, _, _ in os.walk(staging):
            os.chmod(directory, 0o700)
        bot = DataLayout(staging).bot_dir
        mark_restored(bot / "nio")
        if (bot / "nio" / RESTORED_MARKER).exists():  # a bot that ran: its conversations
            erasure_journal.mark_due(bot)
        if data.exists():
            data.rmdir()
        staging.rename(data)
    except tarfile.TarError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"{archive} opened but holds no valid archive ({exc}); use "
                          "another backup") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files


def _entries(data: Path, leave_out: Path) -> Iterator[tuple[Path, str | None]]:
    """Directories (so that empty ones come back) and regular files, in a stable order, each
    with None; or a link to a place inside ``data``, with that place (relative to ``data``).

    A link that leads out of the data directory is followed: an admin who moved Synapse's
    media to a bigger disk and left a link in its place (or linked the configuration from
    /etc) wants those files in the backup, and they come back as plain files. A link inside
    it stays a link (what it leads to is in the backup under its own name). Never the
    backups' directory ``leave_out`` (linked from here: each backup would hold the ones
    before it)."""
    seen = {os.path.realpath(data), os.path.realpath(leave_out)}
    for directory, subdirs, names in os.walk(data, followlinks=True):
        here = Path(directory)
        if here != data:
            yield here, None
        walked = []
        for name in sorted(subdirs):
            path = here / name
            if name == _SCRATCH:
                continue
            inside = _inside(data, path)
            if inside is not None:
                yield path, inside
                continue
            real = os.path.realpath(path)
            if real not in seen:  # a link back to a directory already taken: once
                seen.add(real)
                walked.append(name)
        subdirs[:] = walked
        for name in sorted(names):
            path = here / name
            if name in _SKIPPED_NAMES or name.endswith(_SKIPPED_SUFFIXES):
                continue
            inside = _inside(data, path)
            if inside is not None:
                yield path, inside
            elif path.is_file():
                yield path, None


def _inside(data: Path, path: Path) -> str | None:
    """Where in ``data`` the link ``path`` leads (None: not a link, or out of ``data``)."""
    if not path.is_symlink():
        return None
    real = Path(os.path.realpath(path))
    if real != data and data not in real.parents:
        return None
    return real.relative_to(data).as_posix()


def _link(name: str, target: str) -> tarfile.TarInfo:
    """A link kept relative, which the restore's filter lets stay in the new directory."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = os.path.relpath(target, os.path.dirname(name) or ".")
    return _anonymous(info)


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _copy_database(source: Path, copy: Path) -> None:
    """One consistent copy, whatever the service writes meanwhile: in one step, so that a
    busy writer cannot make SQLite start the copy over and over. Not when it would leave
    the disk (the data directory's: the copy is made there) without room for the service's
    own writes."""
    size = source.stat().st_size + _size(source.with_name(source.name + "-wal"))
    free = shutil.disk_usage(copy.parent).free
    if free - size < _RESERVE:
        raise BackupError(
            f"the copy of the database {source} ({size / 1_048_576:.0f} MiB) would leave "
            f"its disk with {max(free - size, 0) / 1_048_576:.0f} MiB, and Synapse and the "
            f"bot could write nothing while it is made; free space on that disk (at least "
            f"{(size + _RESERVE - free) / 1_048_576:.0f} MiB more) and run it again")
    try:
        # Never made: a database deleted since the listing is left out, not made empty.
        src = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=60)
    except sqlite3.Error as exc:
        if not source.exists():
            raise FileNotFoundError(2, "deleted meanwhile", str(source)) from None
        raise _not_copied(source, exc) from None
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise _not_copied(source, exc) from None
    finally:
        dst.close()
        src.close()


def _not_copied(source: Path, exc: sqlite3.Error) -> BackupError:
    return BackupError(f"cannot copy the database {source} ({exc}); check it, or stop the "
                       "service and try again")


def _size(path: Path) -> int:
    """0 for a file that is not there (a write-ahead log checkpointed away meanwhile)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owner-only modes, no user names: the restoring user owns what it writes."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o700 if info.isdir() else 0o600
    return info


def _prune(target: Path, now: datetime, keep_days: int, keep: Path) -> tuple[Path, ...]:
    if keep_days <= 0:
        return ()
    pruned: list[Path] = []
    # With the ".partial" a backup killed midway left: as sealed, as old, never finished.
    for old in sorted([*target.glob(f"counsel-*{SUFFIX}"),
                       *target.glob(f"counsel-*{SUFFIX}{_PARTIAL}")]):
        stamp = old.name[len("counsel-"):].removesuffix(_PARTIAL).removesuffix(SUFFIX)
        try:
            made = datetime.strptime(stamp, _STAMP)
        except ValueError:
            continue  # not named by us: not ours to delete
        if old != keep and now.replace(tzinfo=None) - made > timedelta(days=keep_days):
            old.unlink()
            pruned.append(old)
    return tuple(pruned)
