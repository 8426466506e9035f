"""Real encrypted rooms on the homeserver for the scale benchmark's open conversations.

Each room is made as Element makes a direct chat (``trusted_private_chat``, encrypted from the
start, the bot invited) by its own youth account, so the bot's first sync carries one invite
per room; the bot joins and greets each through its own code (a Megolm session per room in its
crypto store, full room state in nio's memory). The youths are plain accounts (an admin login,
no device keys): making 2,000 E2E clients would take longer than the rest of the benchmark,
and nothing they would write is needed, as the conversations themselves are seeded in the
bot's store with these rooms' ids (bench/seed.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp

from bench.env import Homeserver

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


@dataclass(frozen=True)
class RealRoom:
    room_id: str
    youth: str


async def _youth_token(hs: Homeserver, user_id: str) -> str:
    await hs.admin.upsert_user(user_id)
    answer = await hs.admin.request(
        "POST", f"/_synapse/admin/v1/users/{quote(user_id, safe='')}/login", {})
    return str(answer["access_token"])


async def create(
    hs: Homeserver, bot: str, count: int, prefix: str, parallel: int = 8
) -> tuple[list[RealRoom], float]:
    """``count`` encrypted direct chats, each by its own youth, inviting ``bot``; returns
    them and the seconds it took."""
    gate = asyncio.Semaphore(parallel)
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:

        async def one(index: int) -> RealRoom:
            async with gate:
                youth = hs.user_id(f"{prefix}-{index}")
                token = await _youth_token(hs, youth)
                body = {"preset": "trusted_private_chat", "is_direct": True, "invite": [bot],
                        "initial_state": [ENCRYPTION]}
                async with http.post(f"{hs.base_url}/_matrix/client/v3/createRoom", json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as answer:
                    payload = await answer.json()
                    if answer.status != 200:
                        raise RuntimeError(f"createRoom failed ({answer.status}): {payload}")
                return RealRoom(str(payload["room_id"]), youth)

        rooms = list(await asyncio.gather(*(one(i) for i in range(count))))
    return rooms, time.perf_counter() - started


def greeted_count(bot_data: Path) -> int:
    """Rooms the bot has greeted (its ``greeted:`` settings; read-only, beside the bot)."""
    db = bot_data / "bot" / "counsel.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM settings WHERE key LIKE 'greeted:%'")
        return int(row.fetchone()[0])


async def until_greeted(bot_data: Path, rooms: Sequence[RealRoom], alive: Callable[[], None],
                        within: float = 1800) -> float:
    """Wait until the bot has joined and greeted every room; return the time it had.
    ``alive`` raises if the bot process has died (then nothing would come)."""
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        alive()
        with contextlib.suppress(sqlite3.OperationalError):  # not made yet, or busy
            if await asyncio.to_thread(greeted_count, bot_data) >= len(rooms):
                return time.perf_counter()
        await asyncio.sleep(1)
    raise TimeoutError(f"the bot had not greeted all {len(rooms)} rooms within {within:.0f} s")
