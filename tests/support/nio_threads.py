"""nio's peewee models bound per thread, for a process that runs several nio clients.

peewee binds a model to a database on the class, for every thread at once; each nio store
call binds nio's models to its own database for the call. With one client per process (the
bot in production) that is enough. The tests run the bot beside youths' and counsellors'
clients, and the bot restores its device in a worker thread (`restore_off_the_loop`): a
test client's call on the loop's thread rebound the models under the restore's queries.
peewee's thread-safe metadata keeps each thread's binding its own.
"""

from __future__ import annotations

import threading

from nio.store import DefaultStore, SqliteStore
from playhouse.shortcuts import ThreadSafeDatabaseMetadata


def bind_nio_models_per_thread() -> None:
    for model in dict.fromkeys([*DefaultStore.models, *SqliteStore.models]):
        meta = model._meta
        if isinstance(meta, ThreadSafeDatabaseMetadata):
            continue
        database = meta.__dict__.pop("database", None)
        meta.__class__ = ThreadSafeDatabaseMetadata
        # What ThreadSafeDatabaseMetadata.__init__ sets; the binding so far is every
        # thread's default until a thread binds its own.
        meta._database = database
        meta._lock = threading.Lock()
        meta._local = threading.local()
        del meta.table
