"""Drive tests/js/youth.mjs: Element's own stack (matrix-js-sdk + Rust crypto) as a test youth.

One `JsClient` is one Node process is one Matrix device. Requests are JSON lines on the
child's stdin, answers JSON lines on its stdout, matched by id, so a long `wait_for_message`
can run while the same client sends. Every call has a deadline (`within`, in seconds); the
Node side gets it too and answers first with a precise error, the Python deadline is only a
backstop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counsel_bot.core.ids import EventID, RoomID, UserID

JS_DIR = Path(__file__).resolve().parent.parent / "js"
SCRIPT = JS_DIR / "youth.mjs"

# Margin on top of the timeout the Node side enforces itself, so its own, more precise
# error (e.g. "undecryptable: UNSIGNED_SENDER_DEVICE") wins the race.
_BACKSTOP_S = 10.0
_DEFAULT_CALL_S = 60.0
_STDOUT_LIMIT = 16 * 1024 * 1024

log = logging.getLogger(__name__)


class JsClientError(Exception):
    """The youth answered a command with an error (or died)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.details = details or {}


class JsClientTimeout(JsClientError):
    """Nothing matching arrived before the deadline."""


class UndecryptableMessage(JsClientError):
    """Messages arrived but could not be decrypted; `reasons` holds the SDK's failure codes."""

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(str(r) for r in self.details.get("reasons", ()))


class JsClientNotInstalled(RuntimeError):
    """Node or tests/js/node_modules is missing."""


@dataclass(frozen=True)
class LoginInfo:
    user_id: UserID
    device_id: str
    strict: bool
    login_ms: int
    crypto_init_ms: int
    cross_signing_ms: int


@dataclass(frozen=True)
class StartInfo:
    first_sync_ms: int
    cross_signed_confirmed_ms: int


@dataclass(frozen=True)
class ReceivedMessage:
    body: str
    sender: UserID
    event_id: EventID
    server_ms: int = 0  # the homeserver's origin_server_ts
    decrypted_ms: int = 0  # wall clock when this device first had it readable


@dataclass(frozen=True)
class UndecryptableEvent:
    reason: str
    sender: UserID
    event_id: EventID


@dataclass(frozen=True)
class RoomMessages:
    bodies: tuple[str, ...]
    undecryptable: int
    reasons: tuple[str, ...]
    pending: int


def _error_from(answer: dict[str, Any]) -> JsClientError:
    error = dict(answer.get("error") or {})
    code = str(error.pop("code", "error"))
    message = str(error.pop("message", "no message"))
    kind = {"timeout": JsClientTimeout, "undecryptable": UndecryptableMessage}.get(
        code, JsClientError
    )
    return kind(code, message, error)


def _check_installed() -> str:
    node = shutil.which("node")
    if node is None:
        raise JsClientNotInstalled("node is not on PATH: install Node.js >= 20")
    if not (JS_DIR / "node_modules" / "matrix-js-sdk").is_dir():
        raise JsClientNotInstalled(
            f"{JS_DIR}/node_modules is missing: run `make test`, or `npm ci` in tests/js"
        )
    return node


class JsClient:
    """A running youth.mjs process. Create with `JsClient.spawn()` or `open_js_client()`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._readers = [
            asyncio.create_task(self._read_answers()),
            asyncio.create_task(self._forward_stderr()),
        ]

    @classmethod
    async def spawn(cls, *, startup_timeout: float = 30.0) -> JsClient:
        node = _check_installed()
        process = await asyncio.create_subprocess_exec(
            node,
            str(SCRIPT),
            cwd=JS_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_STDOUT_LIMIT,
        )
        client = cls(process)
        try:
            await asyncio.wait_for(asyncio.shield(client._ready), startup_timeout)
        except BaseException:
            await client.close()
            if client._ready.done() and not client._ready.cancelled():
                client._ready.exception()  # mark as seen: the caller gets the real error
            raise
        return client

    # ---- commands --------------------------------------------------------------------

    async def login(
        self, base_url: str, user_id: str, password: str, *, strict: bool = True,
        cross_sign: bool = True,
    ) -> LoginInfo:
        """Password login as a new device, Rust crypto in memory, cross-sign this device
        (unless ``cross_sign`` is False: then ``start`` does not wait for the signature)."""
        r = await self._call(
            "login", base_url=base_url, user_id=user_id, password=password, strict=strict,
            cross_sign=cross_sign,
        )
        return LoginInfo(
            user_id=UserID(r["user_id"]),
            device_id=str(r["device_id"]),
            strict=bool(r["strict"]),
            login_ms=int(r["login_ms"]),
            crypto_init_ms=int(r["crypto_init_ms"]),
            cross_signing_ms=int(r["cross_signing_ms"]),
        )

    async def start(self, *, within: float = 30.0) -> StartInfo:
        """Start syncing; returns once the first sync is in and this device shows as
        cross-signed in its own crypto store (raises JsClientError not_cross_signed if not)."""
        r = await self._call("start", within, timeout_ms=_ms(within))
        return StartInfo(int(r["first_sync_ms"]), int(r["cross_signed_confirmed_ms"]))

    async def create_dm(self, invitee: UserID) -> RoomID:
        """Create an encrypted direct chat (m.megolm.v1.aes-sha2, is_direct) inviting invitee."""
        r = await self._call("create_dm", invitee=invitee)
        return RoomID(r["room_id"])

    async def join(self, room_id: RoomID, *, within: float = 15.0) -> None:
        await self._call("join", within, room_id=room_id, timeout_ms=_ms(within))

    async def send(self, room_id: RoomID, body: str, *, within: float = 15.0) -> EventID:
        """Send m.text; refuses (room_not_encrypted) rather than send in plaintext."""
        r = await self._call("send", within, room_id=room_id, body=body, timeout_ms=_ms(within))
        return EventID(r["event_id"])

    async def wait_for_message(
        self,
        room_id: RoomID,
        *,
        sender: UserID | None = None,
        contains: str | Sequence[str] | None = None,
        after_ms: int | None = None,
        within: float = 15.0,
    ) -> ReceivedMessage:
        """First decrypted m.room.message matching, including ones already received: with
        every string of ``contains`` in its body, stamped by the server at or after
        ``after_ms`` (wall clock, ms).

        Raises UndecryptableMessage (with .reasons) if none matched but some from that
        sender could not be decrypted, JsClientTimeout if nothing came at all.
        """
        wanted = [contains] if isinstance(contains, str) else contains
        args = _drop_none(sender=sender, contains=wanted, after_ts=after_ms)
        r = await self._call(
            "wait_for_message", within, room_id=room_id, timeout_ms=_ms(within), **args
        )
        return ReceivedMessage(str(r["body"]), UserID(r["sender"]), EventID(r["event_id"]),
                               int(r.get("ts") or 0), int(r.get("decrypted_at") or 0))

    async def wait_for_undecryptable(
        self,
        room_id: RoomID,
        *,
        sender: UserID | None = None,
        reason: str | None = None,
        within: float = 15.0,
    ) -> UndecryptableEvent:
        """First encrypted event whose decryption failed (with that reason, if given)."""
        args = _drop_none(sender=sender, reason=reason)
        r = await self._call(
            "wait_for_undecryptable", within, room_id=room_id, timeout_ms=_ms(within), **args
        )
        return UndecryptableEvent(str(r["reason"]), UserID(r["sender"]), EventID(r["event_id"]))

    async def wait_device_signed_by_owner(
        self, user_id: UserID, device_id: str, *, within: float = 15.0
    ) -> None:
        """Until this youth's crypto sees ``device_id`` of ``user_id`` as cross-signed by its
        owner (what strict mode requires); JsClientTimeout if not within ``within``."""
        await self._call("wait_device_signed_by_owner", within, user_id=user_id,
                         device_id=device_id, timeout_ms=_ms(within))

    async def messages(self, room_id: RoomID) -> RoomMessages:
        r = await self._call("messages", room_id=room_id)
        return RoomMessages(
            bodies=tuple(str(b) for b in r["bodies"]),
            undecryptable=int(r["undecryptable"]),
            reasons=tuple(str(x) for x in r["reasons"]),
            pending=int(r["pending"]),
        )

    async def wait_for_invite(self, *, within: float = 15.0) -> RoomID:
        """Wait for an invite not handed out before, accept it, return the room."""
        r = await self._call("wait_for_invite", within, timeout_ms=_ms(within))
        return RoomID(r["room_id"])

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop syncing and end the process (never logs out: the device stays, as in Element)."""
        if self._process.returncode is None:
            with contextlib.suppress(JsClientError, ConnectionError):
                await self._call("stop", grace)
        await self.close(grace=grace)

    async def close(self, *, grace: float = 10.0) -> None:
        """End the process however it is; safe to call twice."""
        if self._process.stdin is not None and not self._process.stdin.is_closing():
            self._process.stdin.close()
        if self._process.returncode is None:
            try:
                await asyncio.wait_for(self._process.wait(), grace)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    # ---- plumbing --------------------------------------------------------------------

    async def _call(self, cmd: str, within: float | None = None, **args: Any) -> dict[str, Any]:
        if self._process.returncode is not None or self._process.stdin is None:
            raise JsClientError("exited", "the youth process has ended; spawn a new JsClient")
        request_id = next(self._ids)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        line = json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n"
        deadline = (within if within is not None else _DEFAULT_CALL_S) + _BACKSTOP_S
        try:
            self._process.stdin.write(line.encode())
            await self._process.stdin.drain()
            reply = await asyncio.wait_for(answer, deadline)
        except TimeoutError:
            raise JsClientTimeout(
                "deadline", f"the youth did not answer {cmd} within {deadline:.0f} s"
            ) from None
        except ConnectionError:
            raise JsClientError(
                "exited", "the youth process has ended; its stderr is in the log"
            ) from None
        finally:
            self._pending.pop(request_id, None)
        if not reply.get("ok"):
            raise _error_from(reply)
        result = reply.get("result")
        return result if isinstance(result, dict) else {}

    async def _read_answers(self) -> None:
        assert self._process.stdout is not None
        try:
            async for raw in self._process.stdout:
                answer = json.loads(raw)
                if answer.get("id") is None and answer.get("ok"):
                    if not self._ready.done():
                        self._ready.set_result(None)
                    continue
                waiting = self._pending.get(answer.get("id"))
                if waiting is not None and not waiting.done():
                    waiting.set_result(answer)
        finally:
            code = await self._process.wait()
            gone = JsClientError(
                "exited", f"the youth process exited with code {code}; its stderr is in the log"
            )
            if not self._ready.done():
                self._ready.set_exception(gone)
            for waiting in self._pending.values():
                if not waiting.done():
                    waiting.set_exception(gone)

    async def _forward_stderr(self) -> None:
        assert self._process.stderr is not None
        async for raw in self._process.stderr:
            log.debug("youth.mjs: %s", raw.decode(errors="replace").rstrip())


@contextlib.asynccontextmanager
async def open_js_client() -> AsyncIterator[JsClient]:
    """`async with open_js_client() as youth:` spawns a youth and always stops it."""
    client = await JsClient.spawn()
    try:
        yield client
    finally:
        await client.stop()


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _drop_none(**args: object) -> dict[str, object]:
    return {k: v for k, v in args.items() if v is not None}
