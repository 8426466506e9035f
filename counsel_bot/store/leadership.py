"""Which of several bots on one PostgreSQL database is the active one.

The active bot holds a session-level advisory lock on a connection of its own. PostgreSQL
frees the lock when that session ends: the process died (its socket closes), or it stopped
answering (a hung process or a cut network: `idle_session_timeout` and TCP keepalives end
the session within seconds). Standbys try the lock every second.

Winning the lock raises the fencing epoch in the `leader` row; the store refuses every write
of an older epoch (`PostgresStore.fence`), so a former active bot that has not yet noticed
its loss can change nothing. The holder pings its lock connection every second and is told
the moment it no longer holds the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from counsel_bot.store import postgres_sql as pg
from counsel_bot.store.contract import SchemaTooNewError, StoreError, StoreRefusedError
from counsel_bot.store.postgres import connect

log = logging.getLogger(__name__)

# The advisory lock key of "the active counsel bot" (beside the migrations' key, which
# commands use to upgrade only while no bot is active).
LEADER_LOCK = pg.LEADER_LOCK
# The setting naming this database for bots that share a data directory (Term.store).
STORE_ID_KEY = "store_id"
# The name of the bots' lock sessions in pg_stat_activity: `role_report` counts them.
LEADERSHIP_SESSION = "counsel-leadership"
# A lock session silent this long is ended by the server, freeing the lock for a standby.
SESSION_SILENCE_LIMIT_SECONDS = 5
# How long one ping may take before the holder counts its lock as lost.
PING_TIMEOUT_SECONDS = 3.0
# A database away is said when it begins (or its reason changes), then this often while it
# lasts: at every try (once a second) a night's outage flooded the journal.
AWAY_REPEAT_SECONDS = 60.0


@dataclass(frozen=True)
class Term:
    """One process's time as the active bot."""

    epoch: int  # the fencing token: the store writes only while this is the current epoch
    failovers: int  # takeovers by a waiting standby, over the database's life
    took_over: bool  # this process waited as a standby before it won
    # Which database this is (made once, kept in it): bots sharing a data directory tell
    # a former active bot of theirs from another database's (runtime/data_lock.py).
    store: str = ""
    # The store the office's conversations were last confirmed in by a bot on the data
    # directory ("sqlite", a database's id, "": none said), learnt once this one holds the
    # directory (standby.py, data_lock.confirm_store).
    last_store: str = ""


@dataclass(frozen=True)
class RoleReport:
    """What `counsel status` says of the active role, read off the database."""

    active_since: datetime | None  # when the active bot's lock session began; None: none
    active_from: str | None  # its address as PostgreSQL sees it (None: a local socket)
    standbys: int  # bots waiting for the role
    epoch: int  # terms begun so far (0: no bot was ever active on this database)
    failovers: int  # of them, takeovers by a waiting standby


async def role_report(url: str, password: str | None) -> RoleReport:
    """Read off the lock itself, on a session of its own (named so that it is counted as
    neither bot): the session holding it, the leadership sessions beside it, the leader
    row. A StoreError if the database cannot be reached."""
    db = await connect(url, password=password, application_name="counsel-status")
    try:
        cursor = await db.execute(
            "SELECT a.pid, a.backend_start, host(a.client_addr) FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1",
            (LEADER_LOCK,))
        holder = await cursor.fetchone()
        cursor = await db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND pid <> %s",
            (LEADERSHIP_SESSION, holder[0] if holder else 0))
        waiting = await cursor.fetchone()
        cursor = await db.execute("SELECT to_regclass('leader') IS NOT NULL")
        made = await cursor.fetchone()
        term = None
        if made is not None and made[0]:
            cursor = await db.execute("SELECT epoch, failovers FROM leader WHERE id = 1")
            term = await cursor.fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL refused to say who holds the active role "
                         f"({type(exc).__name__}); check [store] url's role") from None
    finally:
        await db.close()
    return RoleReport(
        active_since=holder[1] if holder else None, active_from=holder[2] if holder else None,
        standbys=int(waiting[0]) if waiting else 0,
        epoch=int(term[0]) if term else 0, failovers=int(term[1]) if term else 0)


class Leadership:
    def __init__(self, url: str, password: str | None, *, poll_seconds: float = 1.0) -> None:
        self._url = url
        self._password = password
        self._poll = poll_seconds
        self._db: pg.Connection | None = None

    async def _connect(self) -> pg.Connection:
        db = await connect(self._url, password=self._password,
                           application_name=LEADERSHIP_SESSION)
        try:
            # Checked, not upgraded: a standby must not change the tables under the active
            # bot (a newer counsel beside an older one). The winner upgrades.
            await pg.refuse_newer(db)
            # The server ends this session when it falls silent (the holder pings every
            # second): a hung holder's lock frees itself. Keepalives cover a cut network.
            await db.execute(f"SET idle_session_timeout = '{SESSION_SILENCE_LIMIT_SECONDS}s'")
            await db.execute("SET tcp_keepalives_idle = 2")
            await db.execute("SET tcp_keepalives_interval = 1")
            await db.execute("SET tcp_keepalives_count = 3")
        except BaseException:
            await db.close()
            raise
        return db

    async def acquire(self, stop: asyncio.Event, *, wait: bool = True) -> Term | None:
        """Wait until this process is the active one; None if `stop` is set first (or, without
        `wait`, if another process holds the role now; a database it cannot reach is then
        a `StoreError`)."""
        waited = False
        away: tuple[str, float] | None = None  # why, and when it was last said
        while not stop.is_set():
            try:
                if self._db is None or self._db.closed:
                    self._db = await self._connect()
                    if away is not None:
                        log.info("PostgreSQL answers again")
                        away = None
                cursor = await self._db.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    async with self._db.transaction():
                        # One transaction: the upgrade and the new epoch land together, so
                        # a former holder writes either before both or not at all.
                        await pg.migrate(self._db)  # also makes the leader row, at first
                        return await self._begin_term(self._db, took_over=waited)
                if not wait:
                    return None
                # Only a lock held by another process makes this one a standby: a database
                # that is away (below) is waited for, but is neither a holder nor a failover.
                if not waited:
                    log.info("another counsel bot is active; waiting as a standby")
                waited = True
            except (SchemaTooNewError, StoreRefusedError):
                # No wait mends these (an older counsel, a wrong [store] url): said at once.
                await self._drop()
                raise
            except psycopg.ProgrammingError as exc:
                # The server refuses our statements themselves (a role that may not create
                # counsel's tables, a server too old for a setting): no wait mends that either.
                await self._drop()
                primary = getattr(exc.diag, "message_primary", None) or type(exc).__name__
                raise StoreRefusedError(
                    f"PostgreSQL refused counsel's statements ({primary}); make the role of "
                    "[store] url the database's owner (ALTER DATABASE ... OWNER TO ...), on "
                    "PostgreSQL 14 or newer, then start again") from None
            except (psycopg.Error, StoreError) as exc:
                # The database is away (restart, network): keep waiting, with a new session.
                # Our own messages name no data; psycopg's might quote a statement's values.
                why = str(exc) if isinstance(exc, StoreError) else type(exc).__name__
                await self._drop()
                if not wait:
                    # Asked once (the rotation): a database away is not another holder.
                    if isinstance(exc, StoreError):
                        raise
                    raise StoreError(
                        f"cannot reach PostgreSQL for the active role ({why}); check [store] "
                        "url and that the server is running") from None
                now = asyncio.get_running_loop().time()
                if away is None or away[0] != why or now - away[1] >= AWAY_REPEAT_SECONDS:
                    log.warning("cannot reach PostgreSQL for the active role (%s); retrying "
                                "every %g s, said again every %d s while it lasts", why,
                                self._poll, AWAY_REPEAT_SECONDS)
                    away = (why, now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll)
        return None

    @staticmethod
    async def _begin_term(db: pg.Connection, *, took_over: bool) -> Term:
        # Waits for a transaction of the former holder still holding the row (FOR SHARE),
        # so nothing it writes can land after this epoch starts.
        cursor = await db.execute(
            "UPDATE leader SET epoch = epoch + 1, failovers = failovers + %s WHERE id = 1 "
            "RETURNING epoch, failovers", (int(took_over),))
        row = await cursor.fetchone()
        assert row is not None  # the migration inserts the one row
        await db.execute("INSERT INTO settings (key, value) VALUES (%s, %s) "
                         "ON CONFLICT (key) DO NOTHING", (STORE_ID_KEY, secrets.token_hex(16)))
        cursor = await db.execute("SELECT value FROM settings WHERE key = %s", (STORE_ID_KEY,))
        store = await cursor.fetchone()
        assert store is not None  # inserted just now, or before
        return Term(epoch=int(row[0]), failovers=int(row[1]), took_over=took_over,
                    store=str(store[0]))

    async def hold(self, on_lost: Callable[[], None]) -> None:
        """Ping the lock session every poll; call `on_lost` once it no longer holds the lock."""
        while True:
            await asyncio.sleep(self._poll)
            if not await self._still_holding():
                log.critical("lost the active role (the lock session to PostgreSQL ended); "
                             "this bot stops acting now")
                on_lost()
                return

    async def _still_holding(self) -> bool:
        db = self._db
        if db is None or db.closed:
            return False
        ping = asyncio.ensure_future(self._ping(db))
        # Not wait_for: on a cut network psycopg's cancellation of the query waits for the
        # network too. An unanswered ping means lost; the process ends without waiting.
        done, _ = await asyncio.wait({ping}, timeout=PING_TIMEOUT_SECONDS)
        if not done:
            ping.add_done_callback(_consume)
            ping.cancel()
            return False
        try:
            return ping.result()
        except psycopg.Error:
            return False
        except Exception as exc:
            # Anything else (a driver's bug) must not end the pinging silently: the bot
            # would act on unwatched while a standby takes over once the session falls
            # silent. Unsure whether it still holds the lock, it stops acting.
            log.error("checking the lock session failed (%s)", type(exc).__name__)
            return False

    @staticmethod
    async def _ping(db: pg.Connection) -> bool:
        cursor = await db.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND classid = 0 AND objid = %s AND objsubid = 1",
            (LEADER_LOCK,))
        row = await cursor.fetchone()
        return row is not None and row[0] == 1

    async def _drop(self) -> None:
        if self._db is not None:
            with contextlib.suppress(psycopg.Error):
                await self._db.close()
        self._db = None

    async def close(self) -> None:
        """End the session: the lock is freed at once for a standby."""
        await self._drop()


def _consume(task: asyncio.Future[bool]) -> None:
    """Retrieve an abandoned ping's outcome, so asyncio does not report it as lost."""
    if not task.cancelled():
        task.exception()
