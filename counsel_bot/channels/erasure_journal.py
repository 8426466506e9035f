"""The erasure journal: the conversations youths deleted ("ja löschen"), written outside the
data directory, so that a restore from a backup made before deletes them again.

A restore brings back everything the backup held, a conversation deleted after it was made
among them, and the youth who asked for the deletion would never know. Retention needs no
journal (it erases again by the same dates); a youth's own deletion does. One line per
conversation: when, and its id, which is random ("C-…") and, after the deletion, linked to
nobody in counsel; in a restored copy it is what finds the conversation again. Written
(and fsynced) once the room is purged (the deletion's step is tried again until it is
written), never before: a purge that failed for a moment may be overtaken by crisis words
that open the conversation again, and then nothing is deleted. The journal must be on
another disk than the data directory, as the backups are.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime
from pathlib import Path

from counsel_bot.core.errors import BotError
from counsel_bot.core.ids import ConversationID

log = logging.getLogger(__name__)

_LINE = re.compile(r"\S+ (C-[0-9A-Za-z]+)")
# Written by `counsel restore` into the bot's directory, removed once the restored bot has
# deleted again what the journal names. Only a restored copy deletes again: anywhere else a
# conversation the journal names is either being deleted (the outbox finishes its steps) or
# was opened again by its youth (crisis words) before its purge, which was then refused: it
# is theirs, with their counsellor, and a restart must not purge it.
DUE_MARKER = "erasures-due"


def journaled(path: Path) -> list[ConversationID]:
    """The conversations in the journal, oldest first (none if it does not exist yet)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    found = [ConversationID(m[1]) for line in lines if (m := _LINE.fullmatch(line))]
    if len(found) != len([line for line in lines if line.strip()]):
        log.warning("the erasure journal %s has lines that are not ours; they were skipped",
                    path)
    return list(dict.fromkeys(found))


class JournalUnreadable(BotError):
    """A bot restored from a backup cannot read its erasure journal."""


def mark_due(bot_dir: Path) -> None:
    """Make the next start of the bot delete again what the journal names (`DUE_MARKER`)."""
    (bot_dir / DUE_MARKER).touch(mode=0o600)


def at_start(path: Path, *, restored: bool) -> list[ConversationID]:
    """The conversations to delete again (only on ``restored`` data), read at the bot's
    start; the journal is made (empty) if it is not there yet, so that a missing one later
    means a disk that is missing.

    On data restored from a backup (``restored``) a journal that cannot be read stops the
    start: the backups' disk not mounted (yet, or at another place) would read as "nobody
    deleted anything", and what youths deleted since the backup would stay back for good.
    Otherwise the bot starts (the youths need it) and the error says what goes unrecorded."""
    try:
        if restored and not path.exists():
            raise FileNotFoundError(2, "it is not there")
        if not restored:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
            return []
        return journaled(path)
    except OSError as exc:
        if restored:
            raise JournalUnreadable(
                f"this data directory was restored from a backup, but its erasure journal "
                f"{path} cannot be read ({exc.strerror}): without it, what youths deleted "
                "after the backup was made comes back. Mount the backups' disk (or copy the "
                "journal from it) and start again; if no youth ever deleted a conversation "
                f"here, create it empty as this user ({_user()}: touch {path})") from None
        log.error("cannot use the erasure journal %s (%s): youths' deletions are not "
                  "recorded, and a restore from a backup would bring them back; mount the "
                  "backups' disk and let the service write there", path, exc.strerror)
        return []


def _user() -> str:
    """Who the bot runs as: a journal made by root would be closed to it."""
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"#{os.geteuid()}"


def record(path: Path, conversation: ConversationID, at: datetime) -> None:
    """Append ``conversation`` (once) and make it durable before the caller goes on."""
    if conversation in journaled(path):
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{at:%Y-%m-%dT%H:%M:%SZ} {conversation}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
