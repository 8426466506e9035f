"""Active/standby on a real PostgreSQL: one holder, takeover, fencing, a hung holder."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from counsel_bot.core.errors import BotError
from counsel_bot.runtime.data_lock import exclusive, exclusive_when_free
from counsel_bot.store import PostgresStore, SchemaTooNewError, StoreError, StoreFencedError
from counsel_bot.store import postgres_sql as pg
from counsel_bot.store.leadership import LEADER_LOCK, SESSION_SILENCE_LIMIT_SECONDS, Leadership
from tests.conftest import free_port
from tests.store.conftest import AeadSealer
from tests.support.bot_harness import until
from tests.support.postgres import PostgresServer, running_postgres

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    return postgres.new_database()


async def test_one_holder_and_a_standby_that_takes_over(url: str) -> None:
    first, second = Leadership(url, None, poll_seconds=0.1), Leadership(url, None, poll_seconds=0.1)
    try:
        term = await first.acquire(asyncio.Event())
        assert term is not None
        assert not term.took_over
        assert await second.acquire(asyncio.Event(), wait=False) is None
        waiting = asyncio.create_task(second.acquire(asyncio.Event()))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.close()  # the holder's session ends, as when its process dies
        taken = await asyncio.wait_for(waiting, 5)
        assert taken is not None
        assert taken.took_over
        assert taken.epoch == term.epoch + 1
        assert taken.failovers == term.failovers + 1
    finally:
        await first.close()
        await second.close()


async def test_a_standby_stops_waiting_when_asked(url: str) -> None:
    first, second = Leadership(url, None), Leadership(url, None, poll_seconds=0.1)
    try:
        assert await first.acquire(asyncio.Event()) is not None
        stop = asyncio.Event()
        waiting = asyncio.create_task(second.acquire(stop))
        stop.set()
        assert await asyncio.wait_for(waiting, 5) is None
    finally:
        await first.close()
        await second.close()


async def test_the_former_holder_can_write_nothing(url: str, sealer: AeadSealer) -> None:
    first, second = Leadership(url, None), Leadership(url, None)
    store = await PostgresStore.open(url, sealer)
    try:
        term = await first.acquire(asyncio.Event())
        assert term is not None
        store.fence(term.epoch)
        await store.set_setting("sync_token", "s1")
        await first.close()
        assert await second.acquire(asyncio.Event()) is not None
        with pytest.raises(StoreFencedError, match="another counsel process"):
            await store.set_setting("sync_token", "s2")
        assert await store.get_setting("sync_token") == "s1"  # reading is harmless
    finally:
        await store.close()
        await second.close()


async def test_the_holder_hears_at_once_when_its_lock_session_ends(url: str) -> None:
    holder = Leadership(url, None, poll_seconds=0.1)
    lost = asyncio.Event()
    try:
        assert await holder.acquire(asyncio.Event()) is not None
        watch = asyncio.create_task(holder.hold(lost.set))
        await asyncio.sleep(0.3)
        assert not lost.is_set()
        # An administrator (or a failing network path) ends the lock session.
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND objid = %s", (LEADER_LOCK,))
        await asyncio.wait_for(lost.wait(), 3)
        await watch
    finally:
        await holder.close()


async def test_a_ping_that_fails_in_an_unforeseen_way_counts_as_lost(
    url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only psycopg's errors counted as a lost lock: any other error ended the pinging task
    silently, the bot acted on unwatched, and once the silent session ended a standby took
    over beside it (only fencing refused the old bot's writes)."""
    holder = Leadership(url, None, poll_seconds=0.1)
    lost = asyncio.Event()

    async def broken(db: object) -> bool:
        raise RuntimeError("a driver's bug")

    try:
        assert await holder.acquire(asyncio.Event()) is not None
        monkeypatch.setattr(Leadership, "_ping", staticmethod(broken))
        watch = asyncio.create_task(holder.hold(lost.set))
        await asyncio.wait_for(lost.wait(), 3)
        await watch
    finally:
        await holder.close()


async def test_a_silent_holder_loses_the_lock_within_seconds(url: str) -> None:
    # A hung process (or a cut network) stops pinging; the server ends its session.
    hung, standby = Leadership(url, None), Leadership(url, None, poll_seconds=0.2)
    try:
        assert await hung.acquire(asyncio.Event()) is not None  # and then never pings
        started = asyncio.get_running_loop().time()
        term = await asyncio.wait_for(standby.acquire(asyncio.Event()), 15)
        waited = asyncio.get_running_loop().time() - started
        assert term is not None
        assert term.took_over
        assert waited < SESSION_SILENCE_LIMIT_SECONDS + 2
    finally:
        await hung.close()
        await standby.close()


async def test_the_data_directory_waits_for_its_former_holder(tmp_path: Path) -> None:
    with exclusive(tmp_path, "testing"), pytest.raises(BotError, match="still uses"):
        async with exclusive_when_free(tmp_path, within=0.3):
            pass
    async with exclusive_when_free(tmp_path, within=0.3):
        with pytest.raises(BotError, match=r"another counsel process \(pid \d+\) uses"), \
                exclusive(tmp_path, "testing"):
            pass


class Blackhole:
    """A TCP relay to PostgreSQL that can be cut: from then on it forwards nothing, either
    way, but keeps both connections open (a network partition, not a closed socket)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut = False
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                if not self.cut:
                    dst.write(data)
                    await dst.drain()

        await asyncio.gather(pump(client_r, server_w), pump(server_r, client_w),
                             return_exceptions=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


async def test_a_network_cut_fences_the_holder_and_frees_the_lock(
    postgres: PostgresServer, url: str
) -> None:
    relay = Blackhole(postgres.port)
    await relay.start()
    cut_off = url.replace(f":{postgres.port}/", f":{relay.port}/")
    holder, standby = Leadership(cut_off, None, poll_seconds=0.2), Leadership(url, None,
                                                                            poll_seconds=0.2)
    lost = asyncio.Event()
    try:
        assert await holder.acquire(asyncio.Event()) is not None
        watch = asyncio.create_task(holder.hold(lost.set))
        await asyncio.sleep(0.5)
        assert not lost.is_set()
        loop = asyncio.get_running_loop()
        relay.cut = True
        started = loop.time()
        taking_over = asyncio.create_task(standby.acquire(asyncio.Event()))
        await asyncio.wait_for(lost.wait(), 10)  # the holder stops acting on its own...
        noticed = loop.time() - started
        term = await asyncio.wait_for(taking_over, 15)  # ...and the server frees the lock
        freed = loop.time() - started
        assert term is not None
        assert term.took_over
        assert noticed < 5
        assert freed < SESSION_SILENCE_LIMIT_SECONDS + 3
        await watch
    finally:
        relay.cut = False
        await holder.close()
        await standby.close()
        await relay.stop()


async def test_a_database_of_a_newer_counsel_stops_a_bot_instead_of_a_wait_for_good(
    url: str,
) -> None:
    """An older bot started beside a newer one (a half-done upgrade) cannot use the schema;
    as a standby it logged "cannot reach PostgreSQL (StoreError); retrying" every second,
    for good, instead of saying what to do."""
    first = Leadership(url, None)
    try:
        assert await first.acquire(asyncio.Event()) is not None  # the schema is there
    finally:
        await first.close()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("UPDATE counsel_schema SET version = version + 1")
    older = Leadership(url, None, poll_seconds=0.1)
    try:
        with pytest.raises(SchemaTooNewError, match="newer counsel"):
            await asyncio.wait_for(older.acquire(asyncio.Event()), 5)
    finally:
        await older.close()


async def test_a_database_that_does_not_exist_is_named_not_waited_for(
    postgres: PostgresServer,
) -> None:
    """A typo in [store] url: the server answers that the database does not exist, which no
    wait mends. The bot waited for good, logging only "(StoreError)"."""
    typo = Leadership(postgres.url("counsle"), None, poll_seconds=0.1)
    try:
        with pytest.raises(StoreError, match=r'database "counsle" does not exist.*store'):
            await asyncio.wait_for(typo.acquire(asyncio.Event()), 5)
    finally:
        await typo.close()


async def test_a_database_away_is_still_waited_for(caplog: pytest.LogCaptureFixture) -> None:
    """The other side: nobody answering (a restart, the network) is waited out, and the log
    says why."""
    away = Leadership("postgresql://counsel@127.0.0.1:1/counsel", None, poll_seconds=0.05)
    stop = asyncio.Event()
    try:
        waiting = asyncio.create_task(away.acquire(stop))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        stop.set()
        assert await asyncio.wait_for(waiting, 5) is None
    finally:
        await away.close()
    assert "Connection refused" in caplog.text


def _schema_version(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT version FROM counsel_schema").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_standby_of_a_newer_counsel_leaves_the_schema_to_the_active_bot(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rolling upgrade: the newer counsel starts as a standby beside the older active bot.
    It upgraded the schema on its first connection, under the active bot still writing by
    the old one: a standby must change nothing. It upgrades once it has won the role."""
    active = Leadership(url, None, poll_seconds=0.2)
    assert await active.acquire(asyncio.Event()) is not None
    holding = asyncio.create_task(active.hold(lambda: None))

    async def v2(db: pg.Connection) -> None:
        await db.execute("ALTER TABLE settings ADD COLUMN newer text")

    monkeypatch.setattr(pg, "migrate",
                        functools.partial(pg.migrate, migrations=(*pg.MIGRATIONS, v2)))
    newer = Leadership(url, None, poll_seconds=0.1)
    waiting = asyncio.create_task(newer.acquire(asyncio.Event()))
    try:
        await asyncio.sleep(0.5)
        assert not waiting.done()  # a standby...
        assert _schema_version(url) == len(pg.MIGRATIONS)  # ...that changed nothing
        holding.cancel()
        await active.close()
        term = await asyncio.wait_for(waiting, 5)
        assert term is not None
        assert term.took_over
        assert _schema_version(url) == len(pg.MIGRATIONS) + 1  # upgraded once it acts
    finally:
        holding.cancel()
        await active.close()
        await newer.close()


class Gate(Blackhole):
    """A relay to PostgreSQL that turns connections away while `down` (a server restarting)."""

    down = True

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.down:
            client_w.close()
            return
        await super()._relay(client_r, client_w)


async def test_a_database_away_at_the_start_is_not_a_failover(
    postgres: PostgresServer, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The only bot of an office starts while PostgreSQL is still coming up. It logged
    "another counsel bot is active; waiting as a standby" (there is none) and, once the
    database answered, counted a takeover (counsel_failovers_total) that never happened."""
    caplog.set_level(logging.INFO, logger="counsel_bot.store.leadership")
    gate = Gate(postgres.port)
    await gate.start()
    alone = Leadership(url.replace(f":{postgres.port}/", f":{gate.port}/"), None,
                       poll_seconds=0.1)
    try:
        starting = asyncio.create_task(alone.acquire(asyncio.Event()))
        await asyncio.sleep(0.5)
        assert not starting.done()  # waits for the database...
        gate.down = False
        term = await asyncio.wait_for(starting, 5)  # ...and wins the role once it answers
        assert term is not None
        assert not term.took_over
        assert term.failovers == 0
        assert "another counsel bot is active" not in caplog.text
    finally:
        await alone.close()
        await gate.stop()


async def test_a_role_that_may_not_create_the_tables_is_named_not_waited_for(
    postgres: PostgresServer, url: str
) -> None:
    """The database belongs to another role and counsel's may not create tables in it (the
    default since PostgreSQL 15). No wait mends that, but every bot waited for good,
    logging "cannot reach PostgreSQL for the active role (InsufficientPrivilege); retrying":
    an office with no bot at all, and a message pointing at the network."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS counsel_limited")
        admin.execute("CREATE ROLE counsel_limited LOGIN")
    limited = Leadership(url.replace("postgres@", "counsel_limited@"), None, poll_seconds=0.1)
    try:
        with pytest.raises(StoreError, match=r"permission denied.*store"):
            await asyncio.wait_for(limited.acquire(asyncio.Event()), 5)
    finally:
        await limited.close()


async def test_a_command_of_a_newer_counsel_leaves_the_schema_to_the_active_bot(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rolling upgrade, by hand: the admin installed the newer counsel and runs
    one of its commands (`counsel web reset-second-factor`, said to be safe beside the
    running bot; retention, stats) before the bots are restarted. Opening the store upgraded
    the schema under the older active bot still writing by the old one. It must change
    nothing and say to restart the bots first."""
    active = Leadership(url, None, poll_seconds=0.2)
    assert await active.acquire(asyncio.Event()) is not None
    holding = asyncio.create_task(active.hold(lambda: None))

    async def v2(db: pg.Connection) -> None:
        await db.execute("ALTER TABLE settings ADD COLUMN newer text")

    monkeypatch.setattr(pg, "MIGRATIONS", (*pg.MIGRATIONS, v2))
    monkeypatch.setattr(pg, "migrate",
                        functools.partial(pg.migrate, migrations=(*pg.MIGRATIONS,)))
    try:
        with pytest.raises(StoreError, match="restart"):
            await PostgresStore.open(url, AeadSealer())
        assert _schema_version(url) == len(pg.MIGRATIONS) - 1  # unchanged under the bot
    finally:
        holding.cancel()
        await active.close()
    # With no bot active, the command upgrades it, as before.
    store = await PostgresStore.open(url, AeadSealer())
    await store.close()
    assert _schema_version(url) == len(pg.MIGRATIONS)


async def _advisory_waiters(db: psycopg.AsyncConnection[tuple[object, ...]], key: int) -> int:
    cursor = await db.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND objid = %s AND database = (SELECT oid FROM pg_database "
        "WHERE datname = current_database())", (key,))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_a_command_run_with_no_bot_active_is_not_taken_for_an_active_bot(
    url: str, sealer: AeadSealer, caplog: pytest.LogCaptureFixture
) -> None:
    """`counsel retention` (or reset-second-factor) opens the store while no bot is active,
    and the office's only bot starts in that moment. Opening the store took the active
    bot's lock for its upgrade check, so the bot logged "another counsel bot is active;
    waiting as a standby" (there was none) and, a second later, counted a takeover
    (counsel_failovers_total) that never happened: the dashboard's failover alarm for
    nothing. The command's upgrade is held up here (another session holds the migration
    lock), so the bot surely starts while the command opens the store."""
    caplog.set_level(logging.INFO, logger="counsel_bot.store.leadership")
    await (await PostgresStore.open(url, sealer)).close()  # the schema as a running office's
    blocker = await psycopg.AsyncConnection.connect(url, autocommit=True)
    bot = Leadership(url, None, poll_seconds=0.1)
    command = None
    try:
        await blocker.execute("SELECT pg_advisory_lock(%s)", (pg.MIGRATION_LOCK,))
        command = asyncio.create_task(PostgresStore.open(url, sealer))

        async def waiters(at_least: int) -> bool:
            return await _advisory_waiters(blocker, pg.MIGRATION_LOCK) >= at_least

        await until(functools.partial(waiters, 1), within=10, what="the command opening")
        starting = asyncio.create_task(bot.acquire(asyncio.Event()))

        async def tried() -> bool:
            return "waiting as a standby" in caplog.text or await waiters(2)

        await until(tried, within=10, what="the bot trying the role")
        await blocker.execute("SELECT pg_advisory_unlock(%s)", (pg.MIGRATION_LOCK,))
        store = await asyncio.wait_for(command, 10)
        await store.close()
        term = await asyncio.wait_for(starting, 10)
        assert term is not None
        assert "another counsel bot is active" not in caplog.text
        assert not term.took_over
        assert term.failovers == 0
    finally:
        if command is not None and not command.done():
            command.cancel()
        await bot.close()
        await blocker.close()


async def test_a_url_naming_a_read_only_server_first_finds_the_writable_one(
    postgres: PostgresServer, url: str
) -> None:
    """PostgreSQL's own failover, the way libpq offers it: [store] url names both servers
    ("postgresql://counsel@db1,db2/counsel"). After a failover the former primary, back as a
    read-only standby, answers first: every bot connected to it, took the lock there, could
    not write its epoch, and tried again every second, logging that it "cannot reach
    PostgreSQL": no bot was active while the new primary stood ready. (A database set
    read-only stands in for the standby: both refuse every write, and libpq tells both
    apart from a primary the same way.)"""
    name = url.rsplit("/", 1)[1]
    with running_postgres(free_port()) as former:
        with psycopg.connect(former.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}".encode())
            db.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on".encode())
        both = f"postgresql://postgres@127.0.0.1:{former.port},127.0.0.1:{postgres.port}/{name}"
        bot = Leadership(both, None, poll_seconds=0.2)
        try:
            term = await asyncio.wait_for(bot.acquire(asyncio.Event()), 10)
            assert term is not None
        finally:
            await bot.close()


async def test_a_database_away_is_said_once_not_every_second(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL down for the night: each bot logged the same warning at every try, once a
    second (28,800 lines a bot by morning), and the journal's rate limit then dropped the
    lines that mattered. Said when it begins, again only once a minute while it lasts."""
    away = Leadership("postgresql://counsel@127.0.0.1:1/counsel", None, poll_seconds=0.05)
    stop = asyncio.Event()
    try:
        waiting = asyncio.create_task(away.acquire(stop))
        await asyncio.sleep(1.0)  # about twenty tries
        stop.set()
        assert await asyncio.wait_for(waiting, 5) is None
    finally:
        await away.close()
    said = [r for r in caplog.records if "cannot reach PostgreSQL" in r.getMessage()]
    assert len(said) == 1, f"said {len(said)} times"
