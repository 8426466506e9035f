"""One end-to-end check against a running deployment: a youth on matrix-nio (E2E) opens a
direct chat with the bot, as Element does, and must receive the bot's greeting, decrypted.

It also proves the routing: a /sync through the proxy must have been answered by the worker.
Prints one JSON line of timings (seconds); exits non-zero with a reason on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import aiohttp
from nio import MatrixRoom, RoomMessage

from counsel_bot.core.messages import CATALOGUE
from deploy.scaleout_config import UPSTREAM_HEADER
from tests.support.bot_harness import NioYouth, until

SYNC_PATH = "/_matrix/client/v3/sync?timeout=0"


class CheckFailed(Exception):
    """The deployment did not do what a youth needs; the message says what was missing."""


def account(accounts_file: Path, role: str) -> tuple[str, str]:
    for entry in json.loads(accounts_file.read_text(encoding="utf-8")):
        if entry["role"] == role:
            return str(entry["user_id"]), str(entry["password"])
    raise CheckFailed(f"{accounts_file} has no {role} account; run deploy/provision.py first")


async def sync_served_by_worker(base_url: str, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(
        base_url + SYNC_PATH, headers=headers
    ) as answer:
        return answer.status == 200 and answer.headers.get(UPSTREAM_HEADER) == "sync-worker"


async def check(base_url: str, accounts_file: Path, store: Path, within: float) -> dict[str, float]:
    bot_user, _ = account(accounts_file, "bot")
    youth_user, youth_password = account(accounts_file, "youth")
    shutil.rmtree(store, ignore_errors=True)  # a fresh device each run, like a new phone
    started = time.monotonic()
    youth = await NioYouth.login(base_url, youth_user, youth_password, store)
    decrypted_from_bot: list[str] = []

    async def on_message(room: MatrixRoom, event: RoomMessage) -> None:
        if event.sender == bot_user and getattr(event, "decrypted", False):
            decrypted_from_bot.append(room.room_id)

    youth.client.add_event_callback(on_message, RoomMessage)
    logged_in = time.monotonic()
    try:
        if not await sync_served_by_worker(base_url, str(youth.client.access_token)):
            raise CheckFailed("/sync through the proxy was not answered by the generic worker")
        youth.start()
        room_id = await youth.open_chat(bot_user, like_element=True)
        opened = time.monotonic()
        first_line = CATALOGUE["greeting"]["de"].splitlines()[0]
        await youth.wait_for(room_id, bot_user, first_line, within=within)
        greeted = time.monotonic()

        async def was_encrypted() -> bool:
            return room_id in decrypted_from_bot

        await until(was_encrypted, within=5, what="the greeting to arrive encrypted")
    finally:
        await youth.close()
    return {
        "youth_login_s": round(logged_in - started, 3),
        "open_chat_s": round(opened - logged_in, 3),
        "chat_opened_to_greeting_s": round(greeted - opened, 3),
        "total_s": round(greeted - started, 3),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--accounts", type=Path, required=True, help="DATA/bridge/accounts.json")
    parser.add_argument("--store", type=Path, required=True, help="the test youth's nio store")
    parser.add_argument("--within", type=float, default=60.0, help="seconds to wait for greeting")
    args = parser.parse_args(argv)
    # nio's warnings name rooms and devices; a room id must not reach a log.
    logging.getLogger("nio").setLevel(logging.CRITICAL)
    try:
        timings = asyncio.run(check(args.url, args.accounts, args.store, args.within))
    except (CheckFailed, AssertionError) as exc:
        print(f"e2e check failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
