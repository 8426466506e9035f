"""A Synapse module: each device forgets the address and app it was last seen from.

Synapse keeps, per device, the IP address and user agent of its last request (``devices.ip``,
``devices.user_agent``), as long as the device exists. ``user_ips_max_age`` prunes only the
history in ``user_ips``; nothing prunes these two columns. A youth's anonymous account would
keep their home's address beside it for as long as they stay logged in, which is what links
an account to a person. This module clears both columns of every device not seen for
``max_age_seconds`` (the template gives ``user_ips_max_age``'s seven days), every
``interval_seconds``. It also deletes the rows of ``user_daily_visits`` older than that:
every five minutes Synapse copies the devices seen today, with their user agent, into that
table (whatever ``report_stats`` says) and never deletes them, which would keep, for ever
and after an erasure, on which days each account was used and from which phone. An erased
account (a youth's own deletion deactivates theirs with erasure) loses its daily visits and
its address history (``user_ips``) at the next run, whatever their age: Synapse's
deactivation leaves that history to ``user_ips_max_age``, a week of the youth's addresses
and phone beside the name they asked to have forgotten. On SQLite (the embedded homeserver)
it also merges the user directory's search index: a deleted row is only marked deleted
there, and an erased youth's display name (their nickname) stayed in the index's segments
for good; and it empties the write-ahead log, where deleted rows stayed readable. Synapse
loads it from the homeserver config (``modules:``); it runs on the instance that runs
background tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi
    from synapse.storage.database import LoggingTransaction

_DAY = 24 * 3600


@dataclass(frozen=True)
class ForgetSettings:
    max_age_seconds: int = 7 * _DAY
    interval_seconds: int = 3600


class ForgetDeviceAddresses:
    def __init__(self, config: ForgetSettings, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        api.looping_background_call(self.forget, config.interval_seconds * 1000,
                                    desc="counsel_forget_device_addresses")

    @staticmethod
    def parse_config(config: dict[str, Any] | None) -> ForgetSettings:
        """Synapse calls this at start: a bad value stops it with the key named."""
        config = config or {}
        unknown = set(config) - {"max_age_seconds", "interval_seconds"}
        if unknown:
            raise ValueError(f"forget_addresses: unknown option(s) {sorted(unknown)}")
        values = {key: config.get(key, getattr(ForgetSettings, key))
                  for key in ("max_age_seconds", "interval_seconds")}
        for key, value in values.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"forget_addresses: {key} must be a whole number of "
                                 f"seconds of at least 1, not {value!r}")
        return ForgetSettings(**values)

    async def forget(self) -> int:
        """Devices whose address and app were cleared now, and visits and addresses deleted."""
        cutoff_ms = int((time.time() - self._config.max_age_seconds) * 1000)
        cleared: int = await self._api.run_db_interaction(
            "counsel_forget_device_addresses", clear_before, cutoff_ms)
        await self._api.run_db_interaction("counsel_forget_directory_names", merge_directory)
        await self._api.run_db_interaction("counsel_forget_deleted_pages", empty_log)
        return cleared


def clear_before(txn: LoggingTransaction, cutoff_ms: int) -> int:
    # A device never seen (last_seen NULL) but with an address cannot happen in Synapse; the
    # NULL test keeps such a row from being kept for ever if it ever does.
    txn.execute(
        "UPDATE devices SET ip = NULL, user_agent = NULL"
        " WHERE (last_seen IS NULL OR last_seen < ?)"
        " AND (ip IS NOT NULL OR user_agent IS NOT NULL)",
        (cutoff_ms,),
    )
    cleared: int = txn.rowcount
    # A day's row is stamped with the day's start: deleted once that is older than the age.
    txn.execute("DELETE FROM user_daily_visits WHERE timestamp < ?", (cutoff_ms,))
    cleared += txn.rowcount
    # An erased account's, whatever their age (deactivation left them to user_ips_max_age).
    txn.execute("DELETE FROM user_ips WHERE user_id IN (SELECT user_id FROM erased_users)")
    cleared += txn.rowcount
    txn.execute(
        "DELETE FROM user_daily_visits WHERE user_id IN (SELECT user_id FROM erased_users)")
    return cleared + txn.rowcount


def empty_log(txn: LoggingTransaction) -> None:
    """On SQLite, what a purge or an erasure deleted stays readable in the write-ahead log:
    each page a row was written to sits there as a whole, and a checkpoint copies it into
    the database without emptying the log, whose frames later writes overwrite only as far
    as they reach. An erased youth's nickname and the words of a first room opened without
    encryption stayed there, in plain text, after the rows were gone. The log is checkpointed
    and emptied here; `secure_delete` (set again each run, as the connection may have been
    opened anew; Debian's SQLite has it on already) makes the pages it copies into the
    database hold zeros where the rows were. Synapse on SQLite has one connection, this one:
    only a reader outside it (`counsel backup` copying the database) keeps the checkpoint
    from completing, and then it gives up at once rather than hold every request of the
    homeserver for the busy timeout; the next run does it."""
    from synapse.storage.engines import Sqlite3Engine

    if not isinstance(txn.database_engine, Sqlite3Engine):
        return
    txn.execute("PRAGMA secure_delete = ON")
    txn.execute("PRAGMA busy_timeout")
    row = txn.fetchone()
    waited = int(row[0]) if row is not None else 5000
    txn.execute("PRAGMA busy_timeout = 0")
    try:
        txn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        txn.execute(f"PRAGMA busy_timeout = {waited:d}")


def merge_directory(txn: LoggingTransaction) -> None:
    """SQLite's full-text index keeps a deleted row's words in its segments, only marked
    deleted, until they are merged: merged into one (which drops them) whenever it has
    more than one. PostgreSQL deletes them with the row."""
    # Here, not at the top: this runs inside Synapse, which has it loaded already.
    from synapse.storage.engines import Sqlite3Engine

    if not isinstance(txn.database_engine, Sqlite3Engine):
        return
    txn.execute("SELECT count(*) FROM user_directory_search_segdir")
    row = txn.fetchone()
    if row is not None and row[0] > 1:
        txn.execute("INSERT INTO user_directory_search(user_directory_search) VALUES ('optimize')")
