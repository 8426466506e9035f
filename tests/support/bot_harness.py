"""Run the real bot (in this process, on the session's Synapse) and drive nio youths against it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomKeyEvent,
    RoomMessage,
    RoomPreset,
    SyncResponse,
)

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.config import BotSettings, Settings, StaffSettings, VaultSettings, WebConfig
from counsel_bot.core.clock import Clock
from counsel_bot.runtime.runner import run_bot
from homeserver_bridge.contact_rules import read_trusted_file, write_trusted
from homeserver_bridge.paths import DataLayout, write_private

PASSPHRASE = "correct horse battery staple for tests"


class LogCollector(logging.Handler):
    """Every log line of the process, formatted, for canary checks."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class BotProcess:
    """The bot running as a task; ``restart`` stops it and starts it on the same data dir."""

    settings: Settings
    layout: DataLayout
    clock: Clock | None = None
    bot: CounselBot | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return f"@{self.settings.bot.localpart}:{self.settings.homeserver.server_name}"

    async def start(self) -> CounselBot:
        self._stop = asyncio.Event()
        ready: asyncio.Future[CounselBot] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(
            run_bot(self.settings, self.layout, self.layout.root, self._stop,
                    clock=self.clock, on_ready=ready.set_result)
        )
        starting: set[asyncio.Future[Any]] = {ready, self._task}
        done, _ = await asyncio.wait(starting, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()
        self.bot = await ready
        synced = asyncio.ensure_future(self.bot.ready.wait())
        syncing: set[asyncio.Future[Any]] = {synced, self._task}
        done, _ = await asyncio.wait(syncing, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            synced.cancel()
            self._task.result()  # the bot died while starting: show why
        if synced not in done:
            raise AssertionError("the bot did not finish its first sync within 60 s")
        return self.bot

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 30)
        self._task = None
        self.bot = None


def trust(synapse: Any, *accounts: str, bots: Collection[str] = ()) -> None:
    """Name ``accounts`` (staff) and ``bots`` to a running test homeserver as counsel names
    its bot and staff at start (its contact rules leave them alone; youths invite the staff
    only where a bot is): the session's one Synapse serves many bots, each with staff of its
    own. Synapse reads the file again when it changes."""
    path = synapse.layout.trusted_accounts_file
    known = read_trusted_file(path)
    write_trusted(path, known.staff | set(accounts), bots=known.bots | set(bots))


async def provision_bot(
    synapse: Any, data: Path, staff: list[str], *, team_leads: list[str] | None = None,
    clock: Clock | None = None, **bot_overrides: Any,
) -> BotProcess:
    layout = DataLayout(data)
    layout.prepare()
    localpart = f"bot-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    await synapse.admin.register_with_shared_secret(synapse.shared_secret, localpart, password)
    user_id = f"@{localpart}:{synapse.server_name}"
    write_private(layout.bridge_dir / "accounts.json",
                  json.dumps([{"role": "bot", "user_id": user_id, "password": password,
                               "display_name": "Beratung"}]))
    await synapse.admin.override_ratelimit(user_id)
    trust(synapse, *staff, *(team_leads or ()), bots=[user_id])
    settings = Settings(
        homeserver=replace(synapse.embedded.settings),
        bot=BotSettings(localpart=localpart, undecryptable_grace_seconds=5.0, **bot_overrides),
        vault=VaultSettings(passphrase_env="COUNSEL_TEST_NO_SUCH_VARIABLE",
                            passphrase_file="vault.passphrase"),
        staff=StaffSettings(counsellors=tuple(staff), team_leads=tuple(team_leads or ())),
        # Tests that need the team-lead view give it a free port themselves.
        web=WebConfig(enabled=False),
    )
    write_private(data / "vault.passphrase", PASSPHRASE)
    return BotProcess(settings, layout, clock)


@contextlib.asynccontextmanager
async def running_bot(
    synapse: Any, data: Path, staff: list[str] | None = None
) -> AsyncIterator[BotProcess]:
    process = await provision_bot(synapse, data, staff or [])
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


class NioYouth:
    """A youth on matrix-nio with its own encrypted store, syncing in the background.

    A message whose room key has not come yet is kept and read once the key comes, as
    Element does (nio alone would drop it as undecryptable for good)."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.received: list[tuple[str, str, str]] = []  # (room, sender, body)
        self.event_ids: dict[str, str] = {}  # body -> the event id it came in (the last)
        self.undecryptable: list[tuple[str, MegolmEvent]] = []  # (room, event)
        self._sync: asyncio.Task[Any] | None = None

    @classmethod
    async def login(cls, base_url: str, user_id: str, password: str, store: Path, *,
                    publish_keys: bool = True) -> NioYouth:
        """``publish_keys=False``: the device is logged in, but its keys are published
        only by `publish_keys` (an app still setting up a new login)."""
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(store_sync_tokens=True, encryption_enabled=True,
                                   pickle_key="test-youth")
        client = AsyncClient(base_url, user_id, store_path=str(store), config=config)
        answer = await client.login(password, device_name="youth phone")
        assert isinstance(answer, LoginResponse), answer
        youth = cls(client)
        client.add_event_callback(youth._on_message, RoomMessage)
        client.add_event_callback(youth._on_undecryptable, MegolmEvent)
        client.add_to_device_callback(youth._on_room_key, RoomKeyEvent)
        client.add_response_callback(youth._on_sync, SyncResponse)
        if publish_keys:
            await client.keys_upload()
        return youth

    async def publish_keys(self) -> None:
        await self.client.keys_upload()

    async def _on_message(self, room: MatrixRoom, event: RoomMessage) -> None:
        body = getattr(event, "body", None)
        if isinstance(body, str):
            self.received.append((room.room_id, event.sender, body))
            self.event_ids[body] = event.event_id

    async def _on_sync(self, response: SyncResponse) -> None:
        """The messages of a room this user was removed from (or left) since the last sync,
        read as Element shows them. nio takes in joined and invited rooms only: a message
        and the removal after it in one sync (the bot tells whoever came in with a case code
        that the chat ended, then removes them) were never read. The sync's room keys are
        taken in by then."""
        for room_id, info in response.rooms.leave.items():
            room = self.client.rooms.get(room_id) or MatrixRoom(room_id, self.client.user_id)
            for event in info.timeline.events:
                if getattr(event, "event_id", None) in self.event_ids.values():
                    continue
                if isinstance(event, MegolmEvent):
                    event.room_id = room_id
                    try:
                        event = self.client.decrypt_event(event)
                    except EncryptionError:
                        self.undecryptable.append((room_id, event))
                        continue
                if isinstance(event, RoomMessage):
                    await self._on_message(room, event)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        self.undecryptable.append((room.room_id, event))

    async def ask_senders_for_keys(self) -> None:
        """Ask the sender's device of each message still unreadable for its room key
        (`m.room_key_request`, as Element did and FluffyChat does; nio asks only its own
        account's devices)."""
        for _, megolm in self.undecryptable:
            request = megolm.as_key_request(megolm.sender, self.client.device_id,
                                            device_id=megolm.device_id)
            await self.client.to_device(request)

    async def _on_room_key(self, event: RoomKeyEvent) -> None:
        """A room key came: the messages kept for it are read now."""
        waiting, self.undecryptable = self.undecryptable, []
        for room_id, megolm in waiting:
            if megolm.session_id != event.session_id:
                self.undecryptable.append((room_id, megolm))
                continue
            try:
                decrypted = self.client.decrypt_event(megolm)
            except EncryptionError:
                self.undecryptable.append((room_id, megolm))
                continue
            if isinstance(decrypted, RoomMessage):
                room = self.client.rooms.get(room_id) or MatrixRoom(room_id, self.client.user_id)
                await self._on_message(room, decrypted)

    def start(self) -> None:
        self._sync = asyncio.create_task(self.client.sync_forever(timeout=1000, full_state=True))

    async def pause(self) -> None:
        """Stop syncing for now (an app in the background); `start` goes on from where
        it stopped."""
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sync
            self._sync = None

    async def close(self) -> None:
        await self.pause()
        await self.client.close()

    async def open_chat(self, bot_user: str, *, like_element: bool = True) -> str:
        """A direct chat as Element makes one (trusted_private_chat: the invitee gets the
        creator's power level), or nio's plain private chat."""
        preset = RoomPreset.trusted_private_chat if like_element else RoomPreset.private_chat
        answer = await self.client.room_create(
            is_direct=True, invite=[bot_user], preset=preset,
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
        )
        return str(answer.room_id)

    async def accept_invite(self, within: float = 30) -> str:
        """Join the next room this user is invited to (in the order invitations came)."""
        async def invited() -> bool:
            return bool(self.client.invited_rooms)
        await until(invited, within=within, what="an invitation")
        room_id = next(iter(self.client.invited_rooms))
        await self.client.join(room_id)
        await until(self._joined(room_id), within=within, what="the join to sync")
        return str(room_id)

    def _joined(self, room_id: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return room_id in self.client.rooms and room_id not in self.client.invited_rooms
        return check

    def invited_to(self) -> set[str]:
        return set(self.client.invited_rooms)

    async def send(self, room_id: str, body: str, msgtype: str = "m.text",
                   **extra: str) -> None:
        """A message of any kind: ``msgtype`` "m.emote" is a /me, "m.image" (with ``url``
        and ``filename`` in ``extra``) a picture whose body is its caption."""
        await self.wait_for_join(room_id)
        content = {"msgtype": msgtype, "body": body, **extra}
        try:
            await self.client.room_send(room_id, "m.room.message", dict(content),
                                        ignore_unverified_devices=True)
        except KeyError:
            # nio drops the room's outbound session when a member leaves while it shares
            # that session, then marks the dropped one shared (a KeyError); sent again, a
            # new session is made and shared. Seen when a counsellor's !close lets them
            # leave just as the youth answers.
            await self.client.room_send(room_id, "m.room.message", dict(content),
                                        ignore_unverified_devices=True)

    async def wait_for_join(self, room_id: str, within: float = 30) -> None:
        await until(lambda: self._has_joined_member(room_id), within=within,
                    what="the bot to join")

    async def _has_joined_member(self, room_id: str) -> bool:
        """Someone besides us has joined, and we know their devices: only then does nio
        share the room key with them (Element waits the same way; nio alone would not)."""
        room = self.client.rooms.get(room_id)
        if room is None or len([u for u in room.users if u not in room.invited_users]) < 2:
            return False
        if self.client.should_query_keys:
            await self.client.keys_query()
        return True

    async def wait_for(self, room_id: str, sender: str, contains: str,
                       within: float = 30) -> str:
        async def seen() -> bool:
            return any(r == room_id and s == sender and contains in b
                       for r, s, b in self.received)
        try:
            await until(seen, within=within, what=f"a message containing {contains!r}")
        except AssertionError as exc:
            got = [(s, b[:70]) for r, s, b in self.received if r == room_id]
            # Which key a message that never showed waits for tells who failed: the sender
            # never shared it, or this device never took it in.
            unread = [(e.sender, e.device_id, e.session_id[:8]) for r, e in self.undecryptable
                      if r == room_id]
            raise AssertionError(f"{exc}; this room received: {got}; unreadable here: "
                                 f"{unread}") from None
        return next(b for r, s, b in self.received
                    if r == room_id and s == sender and contains in b)

    async def delete_chat(self, room_id: str, bot: str) -> None:
        """The youth's own erasure: "löschen", the bot's question, "ja löschen"."""
        await self.send(room_id, "löschen")
        await self.wait_for(room_id, bot, "„ja löschen“", within=60)
        await self.send(room_id, "ja löschen")


async def on_duty(counsellor: NioYouth, bot: str) -> str:
    """The counsellor joins the staff room and goes on duty; the staff room."""
    staff_room = await counsellor.accept_invite(within=60)
    await goes_on_duty(counsellor, staff_room, bot)
    return staff_room


async def goes_on_duty(counsellor: NioYouth, staff_room: str, bot: str, *,
                       within: float = 60) -> str:
    """``!duty on``, and the bot's answer to this counsellor: a colleague's "im Dienst"
    read in the same room let a test go on before the bot had put this one on duty (a
    transfer to them was then refused: seen under load)."""
    await counsellor.send(staff_room, "!duty on")
    return await counsellor.wait_for(
        staff_room, bot, f"{counsellor.client.user_id}: Du bist im Dienst", within=within)


async def block_invitations(synapse: Any, user: NioYouth) -> None:
    """The user's app blocks invitations (Element's setting: the account data
    m.invite_permission_config), so Synapse refuses every invitation to them."""
    url = (f"{synapse.base_url}/_matrix/client/v3/user/{user.client.user_id}"
           "/account_data/m.invite_permission_config")
    async with synapse.http.put(
            url, json={"default_action": "block"},
            headers={"Authorization": f"Bearer {user.client.access_token}"}) as answer:
        assert answer.status == 200


async def login(synapse: Any, user_factory: Any, tmp: Path, prefix: str) -> NioYouth:
    """A fresh user, logged in with its own encrypted store, syncing in the background."""
    return await login_as(synapse, await user_factory(prefix), tmp)


async def login_as(synapse: Any, user: Any, tmp: Path) -> NioYouth:
    """An existing user (with user_id, password, localpart), logged in and syncing."""
    client = await NioYouth.login(synapse.base_url, user.user_id, user.password,
                                  tmp / user.localpart)
    client.start()
    return client


async def until(
    condition: Callable[[], Awaitable[bool] | bool], *, within: float = 30,
    what: str = "condition",
) -> None:
    """Poll ``condition`` (plain or async) until it holds; fail naming ``what`` after
    ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")


@dataclass
class Office:
    """A running bot with one counsellor and one youth logged in (and a team lead, if
    asked for): what most tests of a single conversation need."""

    process: BotProcess
    bot: CounselBot
    counsellor: NioYouth
    youth: NioYouth
    lead: NioYouth | None = None

    @property
    def bot_user(self) -> str:
        return self.process.user_id


@contextlib.asynccontextmanager
async def office(
    synapse: Any, user_factory: Any, tmp: Path, *, with_lead: bool = False,
    admin: bool = False, clock: Clock | None = None,
    configure: Callable[[Settings], Settings] | None = None,
) -> AsyncIterator[Office]:
    """``admin``: the bot gets the bridge's admin token, as `counsel up` gives it (purges,
    erasure); ``configure``: the bot's settings changed before its first start.
    Everything is closed and stopped afterwards, whatever the test did."""
    counsellor = await login(synapse, user_factory, tmp, "counsellor")
    lead = await login(synapse, user_factory, tmp, "lead") if with_lead else None
    process = await provision_bot(
        synapse, tmp / "bot", staff=[counsellor.client.user_id],
        team_leads=[lead.client.user_id] if lead is not None else None, clock=clock)
    if configure is not None:
        process.settings = configure(process.settings)
    if admin:
        write_private(process.layout.admin_token_file, synapse.admin.access_token)
    clients = [c for c in (counsellor, lead) if c is not None]
    try:
        bot = await process.start()
        youth = await login(synapse, user_factory, tmp, "youth")
        clients.append(youth)
        yield Office(process, bot, counsellor, youth, lead)
    finally:
        for client in clients:
            await client.close()
        if process._task is not None:
            await process.stop()


@dataclass(frozen=True)
class Counselling:
    """A running bot with one counsellor (not yet in the staff room) and one youth."""

    process: BotProcess
    bot: CounselBot
    counsellor: NioYouth
    youth: NioYouth
    youth_user: Any  # the youth's account (user_id, password)


@contextlib.asynccontextmanager
async def counselling(synapse: Any, user_factory: Any, tmp: Path) -> AsyncIterator[Counselling]:
    counsellor = await login_as(synapse, await user_factory("counsellor"), tmp)
    youth_user = await user_factory("youth")
    youth = await login_as(synapse, youth_user, tmp)
    process = await provision_bot(synapse, tmp / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    try:
        yield Counselling(process, bot, counsellor, youth, youth_user)
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()
