"""A bench client in a process of its own, driven from the benchmark's process (a control).

Every other bench client shares the benchmark's one event loop. When a message wakes several
of them at once (a crisis alert reaches every counsellor in the staff room; the youth and the
counsellor in the youth's room decrypt the crisis message and the bot's answer), they take
turns, while a person's device is a process of its own. ``python -m bench.latency
--own-process`` runs every counsellor and every sequential youth here instead (``python -m
bench.remote``, spoken to over stdin/stdout, one JSON object a line): it syncs, decrypts and
timestamps as ``BenchClient`` does; the benchmark's process keeps a mirror of what it saw.
Times are ``perf_counter`` (CLOCK_MONOTONIC on Linux: the same clock in every process).

Echo and alert are treated alike: the timed client of either sample (the youth for the echo,
the counsellor for the alert) runs alone in its process. Measured 2026-12-05 (bench/RESULTS.md,
"Is the alert's delivery the benchmark's own event loop?"): it did not shorten the alert's
delivery (115 ms p50 against 104 and 116 in the shared loop, same session): the work the alert
sets off is CPU on the machine's 2 shared cores, mostly Synapse's, wherever the clients run.
So this stays a control, off by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from bench.client import BenchClient, Participant, Seen
from bench.env import REPO, Account

STARTUP = 120.0


class RemoteError(RuntimeError):
    """The client process failed a call; its log (``remote.log`` in its store) says why."""


class RemoteClient(Participant):
    def __init__(self, process: asyncio.subprocess.Process, user_id: str) -> None:
        super().__init__()
        self._process = process
        self._user_id = user_id
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def create(cls, base_url: str, account: Account, store: Path) -> RemoteClient:
        store.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before syncing)
        with (store / "remote.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.remote", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log, cwd=REPO, env=dict(os.environ),
                start_new_session=True)
        remote = cls(process, account.user_id)
        await remote._call("start", base_url, dataclasses.asdict(account), str(store),
                           within=STARTUP)
        return remote

    @property
    def user_id(self) -> str:
        return self._user_id

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            said = json.loads(line)
            if "seen" in said:
                self.arrived(Seen(**said["seen"]))
            elif "invited" in said:
                self.invited(*said["invited"])
            else:
                future = self._calls.pop(said["id"])
                if "error" in said:
                    future.set_exception(RemoteError(said["error"]))
                else:
                    future.set_result(said.get("result"))
        for future in self._calls.values():
            if not future.done():
                future.set_exception(RemoteError("the client process ended"))

    async def _call(self, name: str, *args: Any, within: float = 90.0) -> Any:
        assert self._process.stdin is not None
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[self._next] = future
        self._process.stdin.write(
            json.dumps({"id": self._next, "call": name, "args": args}).encode() + b"\n")
        await self._process.stdin.drain()
        return await asyncio.wait_for(future, within)

    async def open_direct(self, peer: str) -> str:
        return str(await self._call("open_direct", peer))

    async def prepare_room(self, room_id: str, peer: str, within: float = 60) -> None:
        await self._call("prepare_room", room_id, peer, within, within=within + 30)

    async def share_room_key(self, room_id: str, members: int, within: float = 60) -> None:
        await self._call("share_room_key", room_id, members, within, within=within + 30)

    async def send(self, room_id: str, body: str) -> float:
        return float(await self._call("send", room_id, body))

    async def join(self, room_id: str) -> None:
        await self._call("join", room_id)

    async def close(self) -> None:
        with contextlib.suppress(RemoteError, TimeoutError, ConnectionError):
            await self._call("close", within=30)
        if self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


# -- the client process -------------------------------------------------------------------


def _say(what: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(what) + "\n")
    sys.stdout.flush()


class _Reporting(BenchClient):
    """A BenchClient that also tells the benchmark's process what it saw, as it sees it."""

    def arrived(self, seen: Seen) -> None:
        super().arrived(seen)
        _say({"seen": dataclasses.asdict(seen)})

    def invited(self, room_id: str, now: float, polled: float) -> None:
        if room_id not in self.invites:
            _say({"invited": [room_id, now, polled]})
        super().invited(room_id, now, polled)


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    client: BenchClient | None = None
    async for line in commands:
        asked = json.loads(line)
        name, args = asked["call"], asked["args"]
        try:
            if name == "start":
                base_url, account, store = args
                client = await _Reporting.create(base_url, Account(**account), Path(store))
                result: Any = None
            elif client is None:
                raise RemoteError("the client was not started")
            elif name == "close":
                await client.close()
                _say({"id": asked["id"], "result": None})
                return
            else:
                result = await getattr(client, name)(*args)
        except Exception as error:  # reported to the benchmark, which raises
            logging.exception("call failed")
            _say({"id": asked["id"], "error": f"{name} failed: {type(error).__name__}"})
            continue
        _say({"id": asked["id"], "result": result})


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("nio", "peewee", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    asyncio.run(_serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
