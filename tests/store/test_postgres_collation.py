"""PostgreSQL orders text by the database's collation: a production database is usually
created with ``en_US.UTF-8`` (the tests' cluster uses ``C``). Listings and the router's
snapshot must come in the order SQLite gives them (by code point), whatever the collation:
with en-US, "!Zb" came after "!ab", and "@anna.b" after "@annac"."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from counsel_bot.core.ids import UserID
from counsel_bot.core.routing import Role, Router, StaffAdded
from counsel_bot.store import PostgresStore, SqliteStore, Store, Transition
from tests.store.conftest import AeadSealer
from tests.support.postgres import PostgresServer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# Room ids are mixed case; user ids may hold "." "_" "=" "-" "/".
ROOMS = ["!ab:x", "!Zb:x", "!a_z:x", "!aa:x", "!B-c:x"]
USERS = ["@annac:x", "@anna.b:x", "@anna_z:x", "@Bert:x", "@anna:x"]


def _icu_database(postgres: PostgresServer) -> str:
    """A fresh database whose default collation is ICU's en-US, as en_US.UTF-8 orders."""
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                   "LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'".encode())
    return postgres.url(name)


async def _fill(store: Store) -> None:
    router = Router()
    for user in USERS:
        router.handle(StaffAdded(T0, UserID(user), Role.COUNSELLOR))
    await store.commit_transition(Transition(
        T0, router.snapshot(), settings=tuple((f"moved_from:{room}", "!first:x")
                                               for room in ROOMS)))
    for room in ROOMS:
        await store.set_sealed_setting(f"note:{room}", b"x")


async def _orders(store: Store) -> tuple[list[str], list[str], list[str]]:
    await _fill(store)
    return ([key for key, _ in await store.settings("moved_from:")],
            [key for key, _ in await store.sealed_settings("note:")],
            [c.user for c in (await store.load_router_snapshot()).counsellors])


@pytest.fixture
def icu_url(postgres: PostgresServer) -> str:
    url = _icu_database(postgres)
    with psycopg.connect(url) as db:
        row = db.execute("SELECT 'a' < 'B'").fetchone()
    assert row is not None
    assert row[0], "the database does not collate as en-US"
    return url


async def test_listings_and_the_snapshot_come_in_sqlites_order_under_en_us(
    icu_url: str, tmp_path: Path
) -> None:
    sqlite = await SqliteStore.open(tmp_path / "counsel.sqlite3", AeadSealer())
    postgres = await PostgresStore.open(icu_url, AeadSealer())
    try:
        expected = await _orders(sqlite)
        assert expected == (sorted(f"moved_from:{r}" for r in ROOMS),
                            sorted(f"note:{r}" for r in ROOMS), sorted(USERS))
        assert await _orders(postgres) == expected
    finally:
        await sqlite.close()
        await postgres.close()


async def test_a_restart_on_en_us_rewrites_no_counsellor(icu_url: str) -> None:
    """The router's snapshot lists counsellors by code point; the loaded one must equal it,
    or the first transition after a start takes the roster for changed."""
    store = await PostgresStore.open(icu_url, AeadSealer())
    try:
        await _fill(store)
        router = Router.from_snapshot(await store.load_router_snapshot())
        assert (await store.load_router_snapshot()).counsellors == router.snapshot().counsellors
    finally:
        await store.close()

