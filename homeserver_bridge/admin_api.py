"""An async client for the parts of Synapse's admin API counsel uses.

Typed results in, our own errors out (``AdminApiError`` and subclasses, chosen by errcode).
Nothing here logs request bodies: they may hold passwords or a youth's room id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from homeserver_bridge.errors import ERRCODE_CLASSES, AdminApiError, NotFound

JSON = dict[str, Any]
# Synapse deletes at most this many of a user's files per call, the newest first.
MEDIA_PER_CALL = 100


@dataclass(frozen=True)
class RegisteredUser:
    user_id: str
    access_token: str
    device_id: str


@dataclass(frozen=True)
class UserInfo:
    user_id: str
    admin: bool
    deactivated: bool
    display_name: str | None


@dataclass(frozen=True)
class RegistrationToken:
    token: str
    uses_allowed: int | None
    completed: int
    expiry_time_ms: int | None


@dataclass(frozen=True)
class RoomDeletion:
    delete_id: str
    status: str  # "scheduled" | "active" | "complete" | "failed"
    error: str | None = None


@dataclass(frozen=True)
class EventReport:
    """What a user's client sent with "Report" on a message (its reason is their words)."""

    report_id: int
    room_id: str
    event_id: str
    reporter: str
    reason: str = field(repr=False)
    # When it came (ms): Synapse numbers reports on from the highest it holds when it
    # starts, so after the bot deleted them all a restart gives a number out again.
    received_ts: int = 0


def registration_mac(shared_secret: str, nonce: str, user: str, password: str, admin: bool) -> str:
    """HMAC-SHA1 over nonce, user, password and the admin flag, as Synapse's endpoint defines it."""
    flag = "admin" if admin else "notadmin"
    message = b"\x00".join(part.encode("utf-8") for part in (nonce, user, password, flag))
    mac = hmac.new(shared_secret.encode("utf-8"), message, digestmod=hashlib.sha1)
    return mac.hexdigest()


def _q(identifier: str) -> str:
    return quote(identifier, safe="")


class AdminClient:
    """Talks to ``base_url`` with an admin access token.

    The token may be empty for the calls that need none (shared-secret registration).
    """

    def __init__(self, base_url: str, access_token: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self._session = session

    def with_token(self, access_token: str) -> AdminClient:
        return AdminClient(self.base_url, access_token, self._session)

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, *, auth: bool = True
    ) -> JSON:
        headers = {"Authorization": f"Bearer {self.access_token}"} if auth else {}
        try:
            async with self._session.request(
                method, self.base_url + path, json=body, headers=headers
            ) as response:
                payload = await _json_or_empty(response)
                if response.status >= 400:
                    raise _error(method, path, response.status, payload)
                return payload
        except aiohttp.ClientError as exc:
            raise AdminApiError(
                f"cannot reach the homeserver at {self.base_url} ({type(exc).__name__}); "
                "is Synapse running?"
            ) from None
        except TimeoutError:
            # aiohttp's total timeout is a bare TimeoutError, no ClientError: callers that
            # catch our errors would crash on it (the entry page: a 504 that aiohttp logs
            # with the youth's address; the bot: a "bug" set aside instead of a retry).
            raise AdminApiError(
                f"the homeserver at {self.base_url} did not answer in time; "
                "is Synapse overloaded or stopped?"
            ) from None

    # -- accounts -------------------------------------------------------------------------

    async def register_with_shared_secret(
        self,
        shared_secret: str,
        localpart: str,
        password: str,
        *,
        admin: bool = False,
        display_name: str | None = None,
    ) -> RegisteredUser:
        path = "/_synapse/admin/v1/register"
        nonce = (await self.request("GET", path, auth=False))["nonce"]
        body: JSON = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": registration_mac(shared_secret, nonce, localpart, password, admin),
        }
        if display_name:
            body["displayname"] = display_name
        answer = await self.request("POST", path, body, auth=False)
        return RegisteredUser(answer["user_id"], answer["access_token"], answer["device_id"])

    async def upsert_user(
        self,
        user_id: str,
        *,
        password: str | None = None,
        display_name: str | None = None,
        admin: bool | None = None,
    ) -> UserInfo:
        body: JSON = {}
        if password is not None:
            body["password"] = password
            body["logout_devices"] = False
        if display_name is not None:
            body["displayname"] = display_name
        if admin is not None:
            body["admin"] = admin
        answer = await self.request("PUT", f"/_synapse/admin/v2/users/{_q(user_id)}", body)
        return _user_info(answer)

    async def get_user(self, user_id: str) -> UserInfo:
        return _user_info(await self.request("GET", f"/_synapse/admin/v2/users/{_q(user_id)}"))

    async def list_users(self, *, include_deactivated: bool = False) -> list[UserInfo]:
        users: list[UserInfo] = []
        start: str | None = "0"
        while start is not None:
            flag = "true" if include_deactivated else "false"
            page = await self.request(
                "GET", f"/_synapse/admin/v2/users?from={start}&limit=100&deactivated={flag}"
            )
            users.extend(_user_info(u) for u in page.get("users", []))
            start = page.get("next_token")
        return users

    async def deactivate(self, user_id: str, *, erase: bool = True) -> None:
        """Deactivate and (by default) erase: the server forgets the profile and hides messages
        from later joiners. Media is deleted separately: erasure does not touch it."""
        await self.request("POST", f"/_synapse/admin/v1/deactivate/{_q(user_id)}", {"erase": erase})
        await self.delete_media_of(user_id)

    async def delete_media_of(self, user_id: str) -> int:
        """Every file the user uploaded, in as many calls as it takes (one call deletes at
        most MEDIA_PER_CALL: the rest, a profile picture among them, would stay)."""
        path = f"/_synapse/admin/v1/users/{_q(user_id)}/media?limit={MEDIA_PER_CALL}"
        deleted = 0
        while True:
            answer = await self.request("DELETE", path)
            # Fewer than asked for: nothing left, or only files Synapse could not remove
            # (it skips them), which another call would not remove either.
            count = int(answer.get("total", 0))
            deleted += count
            if count < MEDIA_PER_CALL:
                return deleted

    async def override_ratelimit(self, user_id: str) -> None:
        """Lift message rate limits for a service account (the bot); youths keep theirs."""
        await self.request(
            "POST",
            f"/_synapse/admin/v1/users/{_q(user_id)}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
        )

    # -- registration tokens --------------------------------------------------------------

    async def create_registration_token(
        self, *, uses_allowed: int | None = 1, expires_at: datetime | None = None
    ) -> RegistrationToken:
        body: JSON = {"uses_allowed": uses_allowed}
        if expires_at is not None:
            body["expiry_time"] = int(expires_at.timestamp() * 1000)
        answer = await self.request("POST", "/_synapse/admin/v1/registration_tokens/new", body)
        return _token(answer)

    async def list_registration_tokens(self) -> list[RegistrationToken]:
        answer = await self.request("GET", "/_synapse/admin/v1/registration_tokens")
        return [_token(t) for t in answer.get("registration_tokens", [])]

    async def delete_registration_token(self, token: str) -> None:
        await self.request("DELETE", f"/_synapse/admin/v1/registration_tokens/{_q(token)}")

    # -- reports --------------------------------------------------------------------------

    async def event_reports(self, limit: int = 100) -> list[EventReport]:
        """The oldest reports the homeserver holds (Synapse keeps them until deleted)."""
        answer = await self.request(
            "GET", f"/_synapse/admin/v1/event_reports?from=0&limit={limit}&dir=f")
        return [EventReport(int(r["id"]), str(r.get("room_id", "")), str(r.get("event_id", "")),
                            str(r.get("user_id", "")), str(r.get("reason") or ""),
                            int(r.get("received_ts") or 0))
                for r in answer.get("event_reports", []) if isinstance(r, dict)]

    async def delete_reports_in(self, room_id: str) -> int:
        """Every report made on the room's messages: the room's purge leaves them in
        Synapse's database, reasons in plain text, and its API lists a report only while its
        room exists, so one not yet passed on (`runtime/reports.py`) would stay for good.
        Before the purge; the number deleted."""
        deleted = 0
        while True:
            answer = await self.request(
                "GET", f"/_synapse/admin/v1/event_reports?from=0&limit=100&dir=f"
                       f"&room_id={_q(room_id)}")
            # The filter matches ids that contain the value: only this room's are taken.
            numbers = [int(r["id"]) for r in answer.get("event_reports", [])
                       if isinstance(r, dict) and r.get("room_id") == room_id]
            for number in numbers:
                await self.delete_event_report(number)
            deleted += len(numbers)
            if len(numbers) < 100:
                return deleted

    async def delete_event_report(self, report_id: int) -> None:
        try:
            await self.request("DELETE", f"/_synapse/admin/v1/event_reports/{report_id}")
        except NotFound:
            return  # deleted before (a repeat after a crash)

    # -- rooms ----------------------------------------------------------------------------

    async def joined_rooms(self, user_id: str) -> list[str]:
        """The rooms ``user_id`` is joined to (a deactivation makes them leave every one)."""
        answer = await self.request("GET", f"/_synapse/admin/v1/users/{_q(user_id)}/joined_rooms")
        return [str(room) for room in answer.get("joined_rooms", [])]

    async def room_members(self, room_id: str) -> list[str]:
        answer = await self.request("GET", f"/_synapse/admin/v1/rooms/{_q(room_id)}/members")
        return list(answer.get("members", []))

    async def room_exists(self, room_id: str) -> bool:
        try:
            await self.request("GET", f"/_synapse/admin/v1/rooms/{_q(room_id)}")
        except AdminApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def delete_room(self, room_id: str, *, block: bool = False) -> RoomDeletion:
        """Start removing the room and purging its history; Synapse does it in the background."""
        body = {"purge": True, "block": block, "force_purge": True}
        answer = await self.request("DELETE", f"/_synapse/admin/v2/rooms/{_q(room_id)}", body)
        return RoomDeletion(answer["delete_id"], "scheduled")

    async def deletion_status(self, delete_id: str) -> RoomDeletion:
        answer = await self.request(
            "GET", f"/_synapse/admin/v2/rooms/delete_status/{_q(delete_id)}"
        )
        return RoomDeletion(delete_id, answer.get("status", "unknown"), answer.get("error"))

    async def running_deletion(self, room_id: str) -> RoomDeletion | None:
        """The room's deletion still under way (scheduled or active), if there is one."""
        try:
            answer = await self.request(
                "GET", f"/_synapse/admin/v2/rooms/{_q(room_id)}/delete_status"
            )
        except NotFound:
            return None
        for task in answer.get("results", []):
            if task.get("status") in ("scheduled", "active"):
                return RoomDeletion(str(task["delete_id"]), str(task["status"]))
        return None

    async def delete_media_in(self, room_id: str) -> int:
        """Every file of this server sent in the room: the room's purge takes the events, not
        the files they point to, and a file sent in a room that was not encrypted is readable
        by anyone with its address. Before the purge, which would leave nothing to list them
        by; a file deleted before (a repeat after a crash) is skipped."""
        try:
            answer = await self.request("GET", f"/_synapse/admin/v1/room/{_q(room_id)}/media")
        except AdminApiError as exc:
            if isinstance(exc, NotFound) or exc.status == 404:
                return 0  # no such room (purged before): nothing to list
            raise
        deleted = 0
        for uri in answer.get("local", []):
            server, _, media = str(uri).removeprefix("mxc://").partition("/")
            try:
                await self.request("DELETE", f"/_synapse/admin/v1/media/{_q(server)}/{_q(media)}")
            except AdminApiError as exc:
                if not (isinstance(exc, NotFound) or exc.status == 404):
                    raise
                continue
            deleted += 1
        return deleted

    async def delete_room_and_wait(
        self, room_id: str, *, poll_interval: float = 0.2, max_wait: float = 60.0
    ) -> RoomDeletion:
        await self.delete_media_in(room_id)
        await self.delete_reports_in(room_id)
        try:
            deletion = await self.delete_room(room_id)
        except AdminApiError as exc:
            # Synapse refuses (400) a second deletion while one runs: an earlier try that
            # stopped waiting, or retention beside a youth's erasure. That one is waited for.
            running = await self.running_deletion(room_id) if exc.status == 400 else None
            if running is None:
                raise
            deletion = running
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while loop.time() < deadline:
            deletion = await self.deletion_status(deletion.delete_id)
            if deletion.status in ("complete", "failed"):
                break
            await asyncio.sleep(poll_interval)
        if deletion.status != "complete":
            raise AdminApiError(
                f"the homeserver did not finish deleting a room (status {deletion.status}); "
                "it will be retried"
            )
        return deletion


async def _json_or_empty(response: aiohttp.ClientResponse) -> JSON:
    try:
        payload = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _error(method: str, path: str, status: int, payload: JSON) -> AdminApiError:
    errcode = str(payload.get("errcode", ""))
    detail = str(payload.get("error", "no detail"))
    # Only the endpoint's fixed part: paths carry user and room ids, which stay out of messages.
    endpoint = "/".join(part for part in path.split("?")[0].split("/")[:5])
    cls = ERRCODE_CLASSES.get(errcode, AdminApiError)
    return cls(
        f"the homeserver refused {method} {endpoint}: {status} {errcode} {detail}",
        status=status,
        errcode=errcode,
    )


def _user_info(data: Mapping[str, Any]) -> UserInfo:
    return UserInfo(
        user_id=str(data.get("name", "")),
        admin=bool(data.get("admin")),
        deactivated=bool(data.get("deactivated")),
        display_name=data.get("displayname"),
    )


def _token(data: Mapping[str, Any]) -> RegistrationToken:
    return RegistrationToken(
        token=str(data["token"]),
        uses_allowed=data.get("uses_allowed"),
        completed=int(data.get("completed", 0)),
        expiry_time_ms=data.get("expiry_time"),
    )
