"""One conductor step at a time, across the tasks that drive the conductor.

Every commit writes the router's whole snapshot, and a failed commit reloads the router from
the store. A step moves the router in memory first (`Conductor.handle`) and commits later,
often after an await (a youth's words judged in a worker thread, a store read). Another task
committing in that window (a mail delivered, the outbox worker's set-aside notice or
replaced staff room) would write the first step's router change without the step's own
rows, or its failed commit would reload the router under the step. So a step holds this lock
from before its first router change until after its commit.

Re-entered freely by the task that holds it: a step calls parts that take it again (an
addon's commit, the mail channel opening a conversation inside its delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class StepLock:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            yield  # the step in hand goes on: the outermost holder releases
            return
        async with self._lock:
            self._owner = task
            try:
                yield
            finally:
                self._owner = None
