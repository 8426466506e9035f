"""nio's stores of several clients in one process, used from two threads.

The tests run the bot beside youths' and counsellors' nio clients in one process, and peewee
binds nio's models to one store's database for the whole process during each call. The bot
restores its device in a worker thread (`session.restore_off_the_loop`; in production the
process's only client), while the test clients sync on the loop's thread: a query of the
restore could land in a test client's database, or a test client's in the bot's. Under load
CI saw what that leaves behind (a bot that stopped with peewee's "Query must be bound to a
database", commands a bot never answered). The test suite binds the models per thread
(`tests/support/nio_threads.py`, from conftest).
"""

from __future__ import annotations

import threading
from pathlib import Path

from nio.store import DefaultStore
from nio.store.models import Accounts


def _store(path: Path, user: str) -> DefaultStore:
    path.mkdir()
    return DefaultStore(user, "DEVICE", str(path), "pickle")


def test_a_query_in_one_thread_stays_in_its_store_while_another_thread_binds_its_own(
    tmp_path: Path,
) -> None:
    bot, youth = _store(tmp_path / "bot", "@bot:x"), _store(tmp_path / "youth", "@youth:x")
    with bot.database.bind_ctx(bot.models):
        Accounts.create(account=b"bot's", user_id="@bot:x", device_id="DEVICE",
                        shared=False)
    bound, other_bound = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def restore() -> None:  # as the bot's restore in its worker thread
        with bot.database.bind_ctx(bot.models):
            bound.set()
            other_bound.wait(5)
            seen.append([a.user_id for a in Accounts.select()])
        bot.database.close()

    worker = threading.Thread(target=restore)
    worker.start()
    bound.wait(5)
    with youth.database.bind_ctx(youth.models):  # a test client's sync meanwhile
        other_bound.set()
        worker.join(5)
    assert seen == [["@bot:x"]]
