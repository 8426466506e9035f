"""A bot on another store than the one its office's conversations are in is refused.

The store is chosen by `[store] url` alone, and counsel moves nothing between stores. A bot
on the other one would start without every open chat, queue place and crisis flag, and
with no sync position and no handled event ids it would read each room's latest messages
again as new (greetings, crisis alerts). Two ways there: an office that ran on the embedded
SQLite store given a PostgreSQL url (the way to a standby); one machine of an
active/standby pair whose counsel.toml lost its `[store]` section (it runs whenever no bot
of PostgreSQL holds the data directory, during a database restart say); and one whose url
names another, empty database. Each is told before the login, at every start: the store a
bot found to be the office's is written in the data directory's lock (data_lock.py), and a
refused bot leaves it as it was."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.data_lock import BOT_LOCK
from counsel_bot.runtime.stores import DATABASE_FILE
from counsel_bot.store import Store
from counsel_bot.store.leadership import Term

# What a bot of the SQLite store writes into the data directory's lock (runner.py).
SQLITE = "sqlite"


def refuse_after_postgresql(bot_dir: Path, last_store: str) -> None:
    """For a bot of the SQLite store; ``last_store``: the store the bots on ``bot_dir``
    were confirmed on (data_lock.exclusive)."""
    if last_store in ("", SQLITE):
        return
    raise BotError(
        f"the office's bots keep their store in PostgreSQL (the bots on {bot_dir} were "
        "active on one), but this bot's [store] url is empty: on the SQLite store it would "
        "start without the office's conversations and read every room's latest messages "
        "again as new. Set [store] url (and password_file) in counsel.toml as the office's "
        f"other bots have them; to go back to the SQLite store on purpose, delete "
        f"{bot_dir / BOT_LOCK} while no bot runs")


async def refuse_beside_another_store(store: Store, bot_dir: Path, term: Term) -> None:
    """For a bot of PostgreSQL that has just become the active one: its ``store`` holds no
    sync position, while the data directory's conversations are elsewhere: in its SQLite
    store, or in the database the office's bots on it were active on (``term.last_store``)."""
    if await store.get_setting(SYNC_TOKEN_KEY) is not None:
        return
    database = bot_dir / DATABASE_FILE
    if await asyncio.to_thread(_sync_token_in, database) is not None:
        raise BotError(
            f"the office's conversations are in the SQLite store {database} (a bot ran on "
            "it), and the PostgreSQL store of [store] url holds none: this bot would start "
            "without them (every open chat, queue place and crisis flag) and read every "
            "room's latest messages again as new; counsel does not move them between "
            "stores. Remove [store] url to go on with the SQLite store; to start anew on "
            f"PostgreSQL, move {database} out of the data directory first")
    if term.last_store not in ("", SQLITE, term.store):
        raise BotError(
            f"the office's bots on {bot_dir} were active on another database than the one "
            "[store] url names, which holds no conversations: this bot would start without the "
            "office's (every open chat, queue place and crisis flag) and read every room's "
            "latest messages again as new. Give every bot of the office the same [store] url "
            "(compare the other machines' counsel.toml); to start anew on this database on "
            f"purpose, delete {bot_dir / BOT_LOCK} while no bot runs")


def _sync_token_in(database: Path) -> str | None:
    """The sync position saved in a SQLite store, read only; None without one."""
    if not database.exists():
        return None
    try:
        uri = f"{database.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?",
                             (SYNC_TOKEN_KEY,)).fetchone()
    except sqlite3.Error:
        return None  # not a store a bot ran on (empty, or not counsel's)
    return None if row is None else str(row[0])
