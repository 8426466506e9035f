"""`counsel backup` / `counsel restore` on a data directory made here (the whole service
round trip, beside a running `counsel up`, is in test_backup_up.py)."""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.cli import main
from counsel_bot.runtime.backup import BackupError, make_backup, restore_backup
from e2e.sealed_stream import SealedStreamError
from e2e.vault import KdfParams

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PASS = "backup passphrase"
NOW = datetime(2026, 12, 7, 3, 0)
CANARY = "CANARY-Lena-aus-der-8b"


def data_dir(root: Path) -> Path:
    data = root / "data"
    (data / "synapse" / "media_store" / "remote_content").mkdir(parents=True)
    (data / "bot").mkdir()
    (data / "bridge").mkdir()
    (data / "bot" / "vault.json").write_text('{"format": "counsel-vault"}')
    (data / "bridge" / "accounts.json").write_text(f'[{{"display_name": "{CANARY}"}}]')
    (data / "synapse" / "media_store" / "picture").write_bytes(os.urandom(200_000))
    db = sqlite3.connect(data / "synapse" / "homeserver.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE profiles (name TEXT)")
    db.execute("INSERT INTO profiles VALUES (?)", (CANARY,))
    db.commit()
    db.close()
    # What a running service leaves beside its files.
    (data / "up.lock").write_text("4242\n")
    (data / "bot" / "lock").write_text("4243\n")
    (data / "bot" / "accounts.json.tmp").write_text("half")
    return data


def backup(data: Path, root: Path, now: datetime = NOW, keep_days: int = 7) -> Path:
    return make_backup(data, root / "backups", PASS, now, keep_days=keep_days,
                       params=CHEAP).path


def test_a_restore_gives_back_the_files_and_databases_and_nothing_of_the_running_service(
    tmp_path: Path,
) -> None:
    data = data_dir(tmp_path)
    restored = tmp_path / "restored"
    assert restore_backup(backup(data, tmp_path), restored, PASS) == 4
    names = sorted(p.relative_to(restored).as_posix() for p in restored.rglob("*"))
    assert names == ["bot", "bot/vault.json", "bridge", "bridge/accounts.json", "synapse",
                     "synapse/homeserver.db", "synapse/media_store",
                     "synapse/media_store/picture", "synapse/media_store/remote_content"]
    assert (restored / "synapse/media_store/picture").read_bytes() == \
        (data / "synapse/media_store/picture").read_bytes()
    db = sqlite3.connect(restored / "synapse" / "homeserver.db")
    assert db.execute("SELECT name FROM profiles").fetchall() == [(CANARY,)]
    for path in [restored, *restored.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is readable by others ({mode:o})"


def test_nothing_of_the_data_is_readable_in_the_backup(tmp_path: Path) -> None:
    """Synapse's database holds nicknames, rooms and who wrote when in plain form."""
    raw = backup(data_dir(tmp_path), tmp_path).read_bytes()
    assert CANARY.encode() not in raw
    assert b"SQLite format 3" not in raw


def test_a_database_being_written_meanwhile_is_copied_consistently(tmp_path: Path) -> None:
    data = data_dir(tmp_path)
    path = data / "synapse" / "homeserver.db"
    stop = threading.Event()

    def write() -> None:
        db = sqlite3.connect(path, timeout=30)
        n = 0
        while not stop.is_set():
            with db:
                db.execute("INSERT INTO profiles VALUES (?)", (f"youth {n}",))
                db.execute("INSERT INTO profiles VALUES (?)", (f"pair {n}",))
            n += 1
        db.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        made = [backup(data, tmp_path, NOW + timedelta(seconds=s)) for s in range(3)]
    finally:
        stop.set()
        writer.join()
    for n, file in enumerate(made):
        restored = tmp_path / f"restored{n}"
        restore_backup(file, restored, PASS)
        db = sqlite3.connect(restored / "synapse" / "homeserver.db")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Each transaction wrote two rows: a torn copy would hold an odd number.
        (count,) = db.execute("SELECT count(*) FROM profiles").fetchone()
        assert count % 2 == 1  # the canary row, and pairs


def test_a_backup_inside_the_data_directory_is_refused(tmp_path: Path) -> None:
    data = data_dir(tmp_path)
    with pytest.raises(BackupError, match="inside the data directory"):
        make_backup(data, data / "backups", PASS, NOW, keep_days=7, params=CHEAP)


def test_a_restore_never_writes_over_a_directory_with_files(tmp_path: Path) -> None:
    file = backup(data_dir(tmp_path), tmp_path)
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(file, tmp_path / "data", PASS)


@pytest.mark.parametrize("damage", ["cut", "wrong passphrase"])
def test_a_restore_that_fails_leaves_nothing_behind(tmp_path: Path, damage: str) -> None:
    file = backup(data_dir(tmp_path), tmp_path)
    if damage == "cut":
        file.write_bytes(file.read_bytes()[:-30])
    target = tmp_path / "restored"
    with pytest.raises(SealedStreamError):
        restore_backup(file, target, PASS if damage == "cut" else "wrong")
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "data"]


def test_backups_older_than_keep_days_are_deleted_others_and_foreign_files_kept(
    tmp_path: Path,
) -> None:
    data = data_dir(tmp_path)
    old = backup(data, tmp_path, NOW - timedelta(days=8))
    recent = backup(data, tmp_path, NOW - timedelta(days=6))
    foreign = tmp_path / "backups" / "counsel-notes.counsel-backup"
    foreign.write_text("mine")
    made = make_backup(data, tmp_path / "backups", PASS, NOW, keep_days=7, params=CHEAP)
    assert made.pruned == (old,)
    assert recent.exists()
    assert foreign.exists()
    assert made.path.exists()
    kept = make_backup(data, tmp_path / "backups", PASS, NOW + timedelta(days=30),
                       keep_days=0, params=CHEAP)
    assert kept.pruned == ()


def test_the_command_wants_a_passphrase_kept_apart_from_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = data_dir(tmp_path)
    monkeypatch.delenv("COUNSEL_BACKUP_PASSPHRASE", raising=False)
    assert main(["backup", "--data", str(data), "--to", str(tmp_path / "b")]) == 1
    assert "no backup passphrase: set COUNSEL_BACKUP_PASSPHRASE" in capsys.readouterr().err
    inside = data / "backup-passphrase"
    inside.write_text(PASS)
    inside.chmod(0o600)
    assert main(["backup", "--data", str(data), "--to", str(tmp_path / "b"),
                 "--passphrase-file", str(inside)]) == 1
    assert "is inside the data directory" in capsys.readouterr().err
    loose = tmp_path / "loose"
    loose.write_text(PASS)
    loose.chmod(0o644)
    assert main(["backup", "--data", str(data), "--to", str(tmp_path / "b"),
                 "--passphrase-file", str(loose)]) == 1
    assert "backup passphrase file" in capsys.readouterr().err


def test_what_a_link_in_the_data_directory_points_at_is_in_the_backup(tmp_path: Path) -> None:
    """An admin moves Synapse's media to a bigger disk and leaves a link in its place (or
    links the configuration from /etc): the backup must hold the files, not leave them out
    without a word."""
    data = data_dir(tmp_path)
    bigger = tmp_path / "bigger-disk"
    bigger.mkdir()
    media = data / "synapse" / "media_store"
    media.rename(bigger / "media_store")
    media.symlink_to(bigger / "media_store", target_is_directory=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "counsel.toml").write_text("[bot]\n")
    (data / "counsel.toml").symlink_to(tmp_path / "etc" / "counsel.toml")
    # Links inside the directory stay links; one back up must not go round in circles.
    (data / "synapse" / "loop").symlink_to(data, target_is_directory=True)
    (data / "accounts").symlink_to(Path("bridge") / "accounts.json")
    (bigger / "media_store" / "back").symlink_to(bigger / "media_store",
                                                 target_is_directory=True)
    restored = tmp_path / "restored"
    restore_backup(backup(data, tmp_path), restored, PASS)
    assert (restored / "synapse/media_store/picture").read_bytes() == \
        (bigger / "media_store/picture").read_bytes()
    assert (restored / "synapse/media_store/remote_content").is_dir()
    assert (restored / "counsel.toml").read_text() == "[bot]\n"
    assert not (restored / "synapse" / "media_store").is_symlink()
    assert (restored / "synapse" / "loop").resolve() == restored.resolve()
    assert (restored / "accounts").read_text() == \
        (data / "bridge" / "accounts.json").read_text()


def test_a_place_that_cannot_be_written_is_said_in_one_line_not_as_a_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mistyped path, a backups' disk that is a file where a directory should be, a full
    disk: what to do, in one line, not "internal error: a bug, please report it" (exit 70),
    and nothing half-written left behind."""
    data = data_dir(tmp_path)
    monkeypatch.setenv("COUNSEL_BACKUP_PASSPHRASE", PASS)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    assert main(["backup", "--data", str(data), "--to", str(a_file)]) == 1
    err = capsys.readouterr().err
    assert "counsel: cannot" in err
    assert str(a_file) in err
    assert "internal error" not in err
    assert not (data / ".backup-scratch").exists()
    file = backup(data, tmp_path)
    assert main(["restore", str(file), "--data", str(a_file / "restored")]) == 1
    err = capsys.readouterr().err
    assert "counsel: cannot" in err
    assert str(a_file) in err
    assert "internal error" not in err


def test_a_second_backup_while_one_runs_is_refused_and_the_first_stays_whole(
    tmp_path: Path,
) -> None:
    """The hourly timer's backup and one the admin starts by hand before an upgrade: both
    used the same scratch directory, the second emptied it under the first, and one of them
    sealed the other's half-made copy of a database (or failed as a bug)."""
    data = data_dir(tmp_path)
    store = sqlite3.connect(data / "bot" / "store.db", check_same_thread=False)
    store.execute("CREATE TABLE t (x TEXT)")
    store.execute("INSERT INTO t VALUES ('canary')")
    store.commit()
    store.execute("BEGIN EXCLUSIVE")  # the first backup waits in its copy of it
    made: list[Path] = []
    first = threading.Thread(target=lambda: made.append(backup(data, tmp_path)))
    first.start()
    release = threading.Timer(3, store.commit)
    try:
        deadline = time.monotonic() + 30
        while not list((data / ".backup-scratch").glob("*.db")):
            assert time.monotonic() < deadline, "the first backup never began its copy"
            time.sleep(0.05)
        release.start()
        with pytest.raises(BackupError, match="another backup"):
            backup(data, tmp_path, NOW + timedelta(seconds=1))
    finally:
        release.cancel()
        store.commit()
        first.join()
        store.close()
    [file] = made
    restore_backup(file, tmp_path / "restored", PASS)
    db = sqlite3.connect(tmp_path / "restored" / "bot" / "store.db")
    assert db.execute("SELECT x FROM t").fetchall() == [("canary",)]


def test_a_backup_killed_midway_is_pruned_like_the_others(tmp_path: Path) -> None:
    """A backup killed while it wrote (the machine went down, the timer's unit was stopped)
    leaves its ".partial" file: sealed copies of every conversation, those youths deleted
    later among them, kept past --keep-days and filling the backups' disk, for good."""
    data = data_dir(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    killed = backups / f"counsel-{NOW - timedelta(days=8):%Y%m%d-%H%M%S}.counsel-backup.partial"
    killed.write_bytes(b"sealed, half")
    recent = backups / f"counsel-{NOW - timedelta(hours=1):%Y%m%d-%H%M%S}.counsel-backup.partial"
    recent.write_bytes(b"sealed, half")
    made = make_backup(data, backups, PASS, NOW, keep_days=7, params=CHEAP)
    assert not killed.exists()
    assert killed in made.pruned
    assert recent.exists()  # perhaps another installation's backup, being written now


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the directory to another user")
def test_a_backup_run_as_another_user_than_the_data_owner_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`sudo counsel backup --data /var/lib/counsel ...` before an upgrade: what it made in
    the data directory as root (its lock, SQLite's journals of a database the service had
    closed) the service's user could not open again, and the timer's backups (as that
    user) failed from then on. As the README says of every command on the data directory:
    refused, with the user to run it as."""
    service_uid = 65534  # nobody, as `counsel` is under the unit
    data = data_dir(tmp_path)
    for path in (data, *data.rglob("*")):
        os.chown(path, service_uid, service_uid)
    monkeypatch.setenv("COUNSEL_BACKUP_PASSPHRASE", PASS)
    assert main(["backup", "--data", str(data), "--to", str(tmp_path / "backups")]) == 1
    assert "belongs to the user" in capsys.readouterr().err
    assert [p.name for p in data.rglob("*") if p.stat().st_uid != service_uid] == []


def test_negative_keep_days_are_refused_not_read_as_keep_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--keep-days -7` (a typo, or "the last 7") kept every backup for good, without a
    word: the deleted conversations in them too, past the week the README promises."""
    data = data_dir(tmp_path)
    monkeypatch.setenv("COUNSEL_BACKUP_PASSPHRASE", PASS)
    with pytest.raises(SystemExit):
        main(["backup", "--data", str(data), "--to", str(tmp_path / "b"), "--keep-days", "-7"])
    assert "--keep-days" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_keep_days_past_any_date_are_refused_before_the_backup_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--keep-days 9999999999` ("keep them for ever") was taken: the backup was made, then
    the pruning of the older ones could not count that many days back (OverflowError), and
    the command ended as an internal error ("a bug, please report it"), exit status 70,
    the timer's unit failed. Refused as a wrong argument now, before anything is written."""
    data = data_dir(tmp_path)
    before = backup(data, tmp_path, NOW - timedelta(days=3))
    monkeypatch.setenv("COUNSEL_BACKUP_PASSPHRASE", PASS)
    with pytest.raises(SystemExit):
        main(["backup", "--data", str(data), "--to", str(tmp_path / "backups"),
              "--keep-days", "9999999999"])
    assert "--keep-days" in capsys.readouterr().err
    assert list((tmp_path / "backups").iterdir()) == [before]


@pytest.mark.parametrize("passphrase", ["geheim", "counsel2026"])
def test_a_backup_passphrase_short_enough_to_guess_is_refused_before_the_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    passphrase: str,
) -> None:
    """A backup holds what the end-to-end encryption does not cover (Synapse's database:
    nicknames, who was in which room and when) and goes to another disk, where whoever
    finds it may guess offline for as long as they like. `COUNSEL_BACKUP_PASSPHRASE=geheim`
    was taken without a word. A new backup now needs at least 12 characters; a restore
    still opens what an older one sealed."""
    data = data_dir(tmp_path)
    monkeypatch.setenv("COUNSEL_BACKUP_PASSPHRASE", passphrase)
    assert main(["backup", "--data", str(data), "--to", str(tmp_path / "backups")]) == 1
    err = capsys.readouterr().err
    assert "at least 12 characters" in err
    assert passphrase not in err
    assert not (tmp_path / "backups").exists()


def test_a_database_copy_that_would_fill_the_data_disk_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each database is copied into the data directory first (SQLite's backup API writes a
    file). Synapse's database is often the largest file there: on a disk with less room
    than it, the copy filled the disk while the service ran, and Synapse and the bot
    could write nothing (a youth's message, a crisis alert) until the backup gave up."""
    data = data_dir(tmp_path)
    size = (data / "synapse" / "homeserver.db").stat().st_size
    real = shutil.disk_usage

    def nearly_full(path: Path | str) -> object:
        return real(path)._replace(free=size + 1024 * 1024)  # a MiB more than the copy
    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    with pytest.raises(BackupError, match="free space"):
        backup(data, tmp_path)
    assert not list((tmp_path / "backups").glob("*"))


def test_a_file_deleted_while_the_backup_runs_is_left_out_not_the_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A youth's "ja löschen" or retention purges a room while the hourly backup runs:
    Synapse deletes the room's media between the backup's listing of a directory and its
    reading of the file. The whole backup failed ("No such file or directory"), that hour's
    and the next, as long as purges kept coming; a file deleted is simply not in it."""
    from counsel_bot.runtime import backup as module

    data = data_dir(tmp_path)
    (data / "synapse" / "media_store" / "purged").write_bytes(b"a youth's picture")
    listed = module._entries

    def purged_meanwhile(*args: Path, **kwargs: Path) -> Iterator[tuple[Path, str | None]]:
        for path, inside in listed(*args, **kwargs):
            if path.name == "purged":
                path.unlink()  # Synapse's purge, just after the listing
            yield path, inside
    monkeypatch.setattr(module, "_entries", purged_meanwhile)
    restored = tmp_path / "restored"
    restore_backup(backup(data, tmp_path), restored, PASS)
    assert (restored / "synapse/media_store/picture").exists()
    assert not (restored / "synapse/media_store/purged").exists()


def test_a_killed_backups_database_copies_go_even_when_the_next_backup_fails(
    tmp_path: Path,
) -> None:
    """A backup killed midway (the OOM killer, a reboot) leaves its copies of the databases
    in the data directory: Synapse's in plain form, nicknames and who was in which room,
    rooms purged since among them, where no erasure reaches. The next backup removed them
    only once it got past its own checks: with the backups' disk gone, every hourly try
    failed first, and the copies stayed, for days."""
    data = data_dir(tmp_path)
    scratch = data / ".backup-scratch"
    scratch.mkdir()
    (scratch / "1.db").write_bytes((data / "synapse" / "homeserver.db").read_bytes())
    gone = tmp_path / "backups"
    gone.write_text("the disk is not mounted; this is a file in its place")
    with pytest.raises(BackupError):
        make_backup(data, gone, PASS, NOW, keep_days=7, params=CHEAP)
    assert not scratch.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the backup to another user")
def test_a_restore_as_root_of_the_services_backup_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The machine is lost; the admin restores the timer's backup (the service's user's)
    with `sudo counsel restore ...` and puts the directory in place: every file root's,
    0600, and the service, as its own user, could open none of them and did not start."""
    service_uid = 65534
    file = backup(data_dir(tmp_path), tmp_path)
    os.chown(file, service_uid, service_uid)
    monkeypatch.setenv("COUNSEL_BACKUP_PASSPHRASE", PASS)
    assert main(["restore", str(file), "--data", str(tmp_path / "restored")]) == 1
    error = capsys.readouterr().err
    assert f"sudo -u {pwd.getpwuid(service_uid).pw_name} counsel" in error
    assert not (tmp_path / "restored").exists()


def test_a_link_to_the_disk_the_backups_go_to_leaves_the_backups_out(tmp_path: Path) -> None:
    """The media moved to the second disk, whose other directory takes the backups, and a
    link to that disk in the data directory: each backup held all the backups before it,
    doubling the backups' disk every hour until it was full."""
    data = data_dir(tmp_path)
    disk = tmp_path / "disk2"
    (disk / "backups").mkdir(parents=True)
    (data / "synapse" / "media_store").rename(disk / "media_store")
    (data / "disk2").symlink_to(disk, target_is_directory=True)
    first = make_backup(data, disk / "backups", PASS, NOW, keep_days=0, params=CHEAP)
    second = make_backup(data, disk / "backups", PASS, NOW + timedelta(hours=1),
                         keep_days=0, params=CHEAP)
    restored = tmp_path / "restored"
    restore_backup(second.path, restored, PASS)
    assert (restored / "disk2" / "media_store" / "picture").exists()
    assert not (restored / "disk2" / "backups" / first.path.name).exists()
