"""The bot's Matrix login: device id, access token and nio store persist together.

A restart restores the same device instead of logging in again: a new device would lose every
Megolm session youths shared with the old one. ``logout()`` is never called, because it deletes
the device's keys on the server while the local store still believes they are published.

A login the homeserver no longer accepts (an admin logged the device out, or revoked its
token) cannot be repaired while running: the bot stops (`LoginRevoked`), keeping every
pending effect, and the next start logs in as a new device, since the old one is gone with
its keys anyway. So does the first start after a restore from a backup (RESTORED_MARKER).
"""

from __future__ import annotations

import asyncio
import copy
import glob
import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    DeleteDevicesError,
    KeysQueryError,
    KeysQueryResponse,
    KeysUploadError,
    KeysUploadResponse,
    LoginResponse,
    Response,
    ShareGroupSessionError,
    ShareGroupSessionResponse,
    SyncError,
    SyncResponse,
    WhoamiError,
)
from nio.crypto import (
    DeviceStore,
    GroupSessionStore,
    InboundGroupSession,
    Olm,
    OlmDevice,
    TrustState,
)
from nio.store import SqliteStore
from nio.store.models import (
    DeviceKeys,
    DeviceTrustState,
    ForwardedChains,
    Keys,
    MegolmInboundSessions,
)

from counsel_bot.channels.matrix.room_keys import RoomKeys
from counsel_bot.core.errors import BotError
from e2e.atomic_file import write_atomically
from e2e.vault import Vault
from homeserver_bridge.paths import write_private

SESSION_CONTEXT = b"counsel/bot-session/v1"

# Error codes for a login the homeserver no longer accepts.
LOGIN_GONE = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})
# nio tries a request that found no homeserver again with pauses that double up to this
# (its default: a minute): a crisis alert, and the sync that reads the youths, waited that
# long after a restarted homeserver was back. Asking a local server every 2 s costs nothing.
RETRY_PAUSE_MOST_SECONDS = 2.0
# Rooms of one sync nio takes in between two turns of the event loop. nio does it for all
# at once: after a start or a takeover (every room's full state) that held the loop 0.5 s
# with 2,000 rooms, and 4.3 to 4.7 s with the machine's two cores loaded (CI's four workers),
# while the lock session, pinged every second, ends after 5 s of silence. A slice of 100
# takes milliseconds.
ROOMS_PER_TURN = 100
# The one-time key type apps claim to open an Olm session with the bot's device.
SIGNED_CURVE25519 = "signed_curve25519"

log = logging.getLogger(__name__)


# Written by `counsel restore` beside the saved login: the device's end-to-end state is the
# backup's. Room keys youths' apps sent it since went in messages the backup does not hold,
# and the apps, which believe the device has them, never send them again; a new device gets
# every app's current key with its next message.
RESTORED_MARKER = "restored"


class LoginRevoked(BotError):
    def __init__(self) -> None:
        super().__init__(
            "the homeserver no longer accepts the bot's login (its device was logged out or "
            "its access token revoked); start the bot again: it logs in as a new device, and "
            "nothing pending is lost")


@dataclass(frozen=True)
class SavedSession:
    user_id: str
    device_id: str
    access_token: str
    # The revoked device this login replaced in the same data directory: the office's
    # device until the store learns the new one (a kill in between must not lock it out).
    replaces: str | None = None
    # Whether that device is off the homeserver: its deletion is tried again at each start
    # until it is (refused once, or the bot stopped right then).
    replaced_deleted: bool = False


class PrivateSqliteStore(SqliteStore):  # type: ignore[misc]  # nio is untyped
    """nio's SQLite store, its database file readable by this user only (0600).

    It lists every account the bot shares a room with (a youth's id beside each device key),
    the rooms and the sync position; nio creates it with the umask's mode. SQLite gives its
    journal the database file's mode, so making the file first is enough. It keeps no
    device's name: an app may name a youth's device after them ("Kims iPhone"), and the bot
    never shows one.
    """

    def _create_database(self) -> Any:
        os.close(os.open(self.database_path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.database_path, 0o600)  # also one an older version left readable
        return super()._create_database()

    def load_inbound_group_sessions(self) -> GroupSessionStore:
        """Every Megolm session the device received, read in two queries. nio's own loader
        asks once more per session for its forwarding chain; an office's thousands of room
        keys then took seconds, with the event loop blocked: the active bot stopped pinging
        its lock session (store/leadership.py) and lost the role it had just won."""
        loaded = GroupSessionStore()
        with self.database.bind_ctx(self.models):
            account = self._get_account()
            if account is None:
                return loaded
            chains: dict[str, list[str]] = {}
            for chain in (ForwardedChains.select().join(MegolmInboundSessions)
                          .where(MegolmInboundSessions.account == account)):
                chains.setdefault(chain.session_id, []).append(chain.sender_key)
            for row in account.inbound_group_sessions:
                session = InboundGroupSession.from_pickle(
                    row.session, row.fp_key, row.sender_key, row.room_id, self.pickle_key,
                    chains.get(row.session_id, []))
                loaded.add(session)
                if session.upgrade_pickle:  # a libolm pickle: kept in vodozemac's format now
                    session.upgrade_pickle = False
                    self.save_inbound_group_session(session)
        return loaded

    def save_device_keys(self, device_keys: dict[str, dict[str, OlmDevice]]) -> None:
        """As nio's, without the devices' names (see the class)."""
        super().save_device_keys({
            user: {device_id: replace(device, display_name="")
                   for device_id, device in devices.items()}
            for user, devices in device_keys.items()})

    def load_device_keys(self) -> DeviceStore:
        """Every device the bot has met, with its keys and trust state, in three queries.
        nio's own loader asks twice more per device and checks each new one against all
        before it: a few thousand youths' and staff's devices took many seconds, with the
        same loss of the active role as above. Names an older version kept are forgotten
        (nio's store overwrites what it deletes: secure_delete)."""
        loaded = DeviceStore()
        with self.database.bind_ctx(self.models):
            account = self._get_account()
            if account is None:
                return loaded
            mine = DeviceKeys.account == account
            DeviceKeys.update(display_name="").where(mine & (DeviceKeys.display_name != "")) \
                .execute()
            keys: dict[int, dict[str, str]] = {}
            for key in Keys.select().join(DeviceKeys).where(mine):
                keys.setdefault(key.device_id, {})[key.key_type] = key.key
            trust = {row.device_id: row.state
                     for row in DeviceTrustState.select().join(DeviceKeys).where(mine)}
            for row in DeviceKeys.select().where(mine):
                # (account, user, device) is unique in the table: no need to look for twins.
                loaded[row.user_id][row.device_id] = OlmDevice(
                    row.user_id, row.device_id, keys.get(row.id, {}),
                    display_name=row.display_name, deleted=row.deleted,
                    trust_state=trust.get(row.id, TrustState.unset))
        return loaded


class CounselClient(AsyncClient):  # type: ignore[misc]  # nio is untyped
    """nio's client, but the answer to a sync is read and checked in a worker thread, and
    its rooms are taken in a slice at a time (`ROOMS_PER_TURN`).

    nio parses it and validates it against its JSON schema in one synchronous call: the first
    sync after a start or a takeover (every room's full state) held the event loop for many
    seconds with 2,000 rooms, and an active bot on PostgreSQL lost the role it had just won
    (its lock session is pinged every second and ended after 5 s of silence), as did every
    standby after it. What nio then does with the answer (rooms, keys) stays on the loop.

    It also keeps the room keys it shares for devices it learns of later (`room_keys`):
    nio would leave them without the messages sent before (a fresh room's first ones). And
    a member whose devices a sync reports changed while a keys query for them was on its
    way is asked for again: nio took that query's answer, perhaps from before the change,
    for the news, and the new device stayed unknown (without any room key of the bot's)
    until the member's devices next changed.

    And it publishes a fallback key beside the one-time keys, as the Matrix spec has it (nio
    does not): an app opens an Olm session with the bot's device by claiming one of its
    one-time keys, any account may claim them all, and the bot replaces them only between
    two of its syncs. With none left, the app could not give the bot the room key of what
    its user wrote: Element makes a youth's chat with their first message, and the bot never
    read it. The homeserver hands out the fallback key when the one-time keys are gone; a
    new one is published once a sync reports it used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room_keys = RoomKeys(self)
        # For each keys query on its way: the users a sync reported changed meanwhile.
        self._reported_meanwhile: dict[int, set[str]] = {}
        self._queries = 0
        # A fallback key to publish: at each start (a new one costs nothing, and the store
        # of a version before this one has none), and once a sync reports it used.
        self.fallback_wanted = True

    @property
    def should_upload_keys(self) -> bool:
        return bool(super().should_upload_keys) or (self.olm is not None
                                                     and self.fallback_wanted)

    async def keys_upload(self) -> KeysUploadResponse | KeysUploadError:
        olm = self.olm
        if olm is None or not self.fallback_wanted:
            return await super().keys_upload()
        content: dict[str, Any] = olm.share_keys() if olm.should_upload_keys else {}
        content["fallback_keys"] = _fallback_keys(olm)
        method, path, data = Api.keys_upload(self.access_token, content)
        # nio marks the keys published (the fallback key too) and saves the account.
        answer: KeysUploadResponse | KeysUploadError = await self._send(
            KeysUploadResponse, method, path, data)
        if isinstance(answer, KeysUploadResponse):
            self.fallback_wanted = False
        return answer

    async def keys_query(self) -> KeysQueryResponse | KeysQueryError:
        self._queries += 1
        number, reported = self._queries, set[str]()
        self._reported_meanwhile[number] = reported
        try:
            answer = await super().keys_query()
        finally:
            del self._reported_meanwhile[number]
        if isinstance(answer, KeysQueryResponse) and self.olm is not None:
            self.olm.users_for_key_query.update(reported & answer.device_keys.keys())
        return answer

    async def share_group_session(
        self, room_id: str, ignore_unverified_devices: bool = False,
    ) -> ShareGroupSessionResponse | ShareGroupSessionError:
        answer = await super().share_group_session(
            room_id, ignore_unverified_devices=ignore_unverified_devices)
        self.room_keys.shared(room_id)
        return answer

    async def receive_response(self, response: Response) -> None:
        await super().receive_response(response)
        if isinstance(response, KeysQueryResponse):
            self.room_keys.learned(response.changed)
        elif isinstance(response, SyncResponse):
            for reported in self._reported_meanwhile.values():
                reported.update(response.device_list.changed)
            self.room_keys.requested(response.to_device_events)
            unused = getattr(response, "unused_fallback_key_types", None)
            if isinstance(unused, list) and SIGNED_CURVE25519 not in unused:
                self.fallback_wanted = True  # claimed: a new one with the next upload

    def _handle_decrypt_to_device(self, to_device_event: Any) -> Any:
        """nio's own, committed as one: what an Olm message changes in the store (the
        one-time key it used taken from the account, the Olm session, the room key it
        brings) is saved all or nothing. nio saves each on its own, and Olm decrypts a
        message once only; the homeserver hands it again to a bot killed before its next
        sync (a failover), and one killed between the Olm session and the room key lost
        the youth's room key for good: their words, crisis words too, stayed unreadable."""
        if self.store is None:
            return super()._handle_decrypt_to_device(to_device_event)
        with self.store.database.atomic():
            return super()._handle_decrypt_to_device(to_device_event)

    async def _handle_joined_rooms(self, response: SyncResponse) -> None:
        """nio's own, on a slice of the rooms at a time, the loop let go between slices.
        Each room is handled as nio would (in the answer's order, to-device events and room
        keys already taken in before the first); what other tasks run between slices sees
        some rooms updated and others not yet, as it would see them between two syncs."""
        rooms = list(response.rooms.join.items())
        for start in range(0, max(len(rooms), 1), ROOMS_PER_TURN):
            if start:
                await asyncio.sleep(0)
            part = copy.copy(response)
            part.rooms = replace(response.rooms,
                                 join=dict(rooms[start:start + ROOMS_PER_TURN]))
            await super()._handle_joined_rooms(part)

    async def create_matrix_response(
        self, response_class: type, transport_response: ClientResponse,
        data: tuple[Any, ...] | None = None, save_to: os.PathLike[str] | None = None,
    ) -> Response:
        if response_class is not SyncResponse:
            return await super().create_matrix_response(response_class, transport_response,
                                                         data, save_to)
        body = await transport_response.read()
        answer = await asyncio.to_thread(_sync_answer, body, data or ())
        answer.transport_response = transport_response
        return answer


def _sync_answer(body: bytes, data: tuple[Any, ...]) -> SyncResponse | SyncError:
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}  # as nio's own reading: its check makes a SyncError of it
    answer: SyncResponse | SyncError = SyncResponse.from_dict(parsed, *data)
    if isinstance(answer, SyncResponse):
        # nio reads no fallback key's state (`CounselClient`); absent: a homeserver without.
        answer.unused_fallback_key_types = parsed.get("device_unused_fallback_key_types")
    return answer


def _fallback_keys(olm: Olm) -> dict[str, Any]:
    """The fallback key to publish, signed as a one-time key is (the ``fallback`` mark
    signed too). One made before and not yet published is published now: a new one would
    push out of the account the one the homeserver still hands out."""
    account = olm.account._account  # vodozemac's, which nio keeps to itself
    if not account.fallback_key:
        account.generate_fallback_key()
        # Saved before it is published: a bot killed once the homeserver took it would
        # have lost the key that every app finding the one-time keys gone is handed.
        olm.save_account()
    keys: dict[str, Any] = {}
    for key_id, key in account.fallback_key.items():
        signed: dict[str, Any] = {"key": key.to_base64(), "fallback": True}
        signed["signatures"] = {olm.user_id: {f"ed25519:{olm.device_id}": olm.sign_json(signed)}}
        keys[f"{SIGNED_CURVE25519}:{key_id}"] = signed
    return keys


def client_config(vault: Vault) -> AsyncClientConfig:
    return AsyncClientConfig(
        store=PrivateSqliteStore,
        store_sync_tokens=True,
        encryption_enabled=True,
        # nio's default pickle key is the literal "DEFAULT_KEY"; ours comes from the vault.
        pickle_key=vault.derive_secret("nio-store-pickle").hex(),
        max_timeouts=None,
        max_timeout_retry_wait_time=RETRY_PAUSE_MOST_SECONDS,
        request_timeout=30,
    )


class SessionFile:
    """bot/session.sealed: the login, sealed by the vault (an access token is a password)."""

    def __init__(self, path: Path, vault: Vault) -> None:
        self.path = path
        self._vault = vault

    def load(self) -> SavedSession | None:
        if not self.path.exists():
            return None
        plain = self._vault.open_sealed(self.path.read_bytes(), context=SESSION_CONTEXT)
        return SavedSession(**json.loads(plain))

    def save(self, session: SavedSession) -> None:
        sealed = self._vault.seal(json.dumps(asdict(session)).encode(), context=SESSION_CONTEXT)
        # The rename too is fsynced: with PostgreSQL the store names this device durably
        # next, and a power cut that brought back the replaced login (or none) would leave
        # every bot of the office refusing to act (runner.refuse_another_device).
        write_atomically(self.path, sealed)


async def connect(
    homeserver: str,
    user_id: str,
    password: str,
    store_dir: Path,
    vault: Vault,
    device_name: str = "counsel bot",
) -> AsyncClient:
    """A client on the saved device, or a first login whose session is saved before use."""
    store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at start)
    store_dir.chmod(0o700)  # noqa: ASYNC240 (a directory an older version made with the umask)
    sessions = SessionFile(store_dir / "session.sealed", vault)
    saved = sessions.load()
    if saved is not None and saved.user_id != user_id:
        raise _renamed(saved.user_id, user_id, store_dir)
    restored = store_dir / RESTORED_MARKER
    if saved is not None and restored.exists():
        log.warning("the bot's data was restored from a backup; logging in as a new device")
    elif saved is not None:
        client = CounselClient(homeserver, user_id, store_path=str(store_dir),
                               config=client_config(vault))
        await restore_off_the_loop(client, saved)
        if not await _revoked(client):
            if saved.replaces is not None and not saved.replaced_deleted:
                await _replaced(client, sessions, saved, store_dir, password)
            return client
        log.warning("the saved login of the bot was revoked; logging in as a new device")
        await client.close()  # it holds the old device's keys: a new client for the new one
    client = CounselClient(homeserver, user_id, store_path=str(store_dir),
                           config=client_config(vault))
    answer = await client.login(password, device_name=device_name)
    if not isinstance(answer, LoginResponse):
        await client.close()
        raise BotError(
            f"the bot account {user_id} could not log in ({getattr(answer, 'message', answer)}); "
            "check that counsel up provisioned it"
        )
    session = SavedSession(answer.user_id, answer.device_id, answer.access_token,
                           replaces=None if saved is None else saved.device_id)
    sessions.save(session)
    restored.unlink(missing_ok=True)
    if saved is not None:
        # The one the replaced login replaced, if still there: a start killed between its
        # new login and the restored mark's removal logs in again, and the backup's device
        # would be left behind.
        earlier = saved.replaces if not saved.replaced_deleted else None
        await _replaced(client, sessions, session, store_dir, password, earlier)
    return client


def _renamed(saved: str, configured: str, store_dir: Path) -> BotError:
    """The configuration names another bot account than the one this data belongs to.
    Restored, the saved login ran as the old account, while youths were sent to the new
    one and the homeserver's contact rules took the old one for a youth."""
    old_local, _, old_server = saved[1:].partition(":")
    new_local, _, new_server = configured[1:].partition(":")
    fixes = ([f'[bot] localpart = "{old_local}"'] if old_local != new_local else []) + (
        [f'[homeserver] server_name = "{old_server}"'] if old_server != new_server else [])
    return BotError(
        f"the bot's data in {store_dir.parent} belongs to the bot account {saved} (its "
        f"login, device and identity, and every youth's room), but the configuration names "
        f"{configured}; a bot account cannot be renamed: set {' and '.join(fixes)} again")


async def restore_off_the_loop(client: AsyncClient, saved: SavedSession) -> None:
    """nio's restore reads the device's whole store (every room key, every device met)
    synchronously. Faster loaders (`PrivateSqliteStore`) shortened it, but on the loop it
    stayed one piece: under load it held the loop 5.4 s once, and the active bot, which
    pings its lock session every second, lost the role it had just won (as the first sync
    did: `CounselClient`). Read in a worker thread while nothing else uses the client yet;
    that thread's own SQLite connection (peewee keeps one a thread) is closed there, and
    the loop's thread opens its own at first use."""
    def restore() -> None:
        try:
            client.restore_login(saved.user_id, saved.device_id, saved.access_token)
        finally:
            if client.store is not None:
                client.store.database.close()
    await asyncio.to_thread(restore)


async def _replaced(client: AsyncClient, sessions: SessionFile, session: SavedSession,
                    store_dir: Path, password: str, earlier: str | None = None) -> None:
    """The device ``session`` replaced (and ``earlier``): every other device's key store
    gone, and the devices off the homeserver (then remembered, so that later starts do
    not ask again)."""
    assert session.replaces is not None
    _forget_other_device_stores(store_dir, session)
    gone = [session.replaces] + ([earlier] if earlier and earlier != session.device_id else [])
    if await _delete_devices(client, gone, password):
        sessions.save(replace(session, replaced_deleted=True))


async def _delete_devices(client: AsyncClient, devices: list[str], password: str) -> bool:
    """The replaced devices off the homeserver (a revoked one may be there still, a
    restored one is): youths' apps otherwise go on encrypting every message for them. Not
    fatal: it only costs them work, and the next start tries again."""
    answer = await client.delete_devices(devices, {
        "type": "m.login.password", "password": password,
        "identifier": {"type": "m.id.user", "user": client.user_id}})
    if isinstance(answer, DeleteDevicesError):
        log.warning("could not delete the bot's replaced device (%s); the next start tries "
                    "again", answer.status_code)
        return False
    return True


def _forget_other_device_stores(store_dir: Path, current: SavedSession) -> None:
    """Every key store but ``current``'s: the devices replaced are no use to anyone (gone
    or left for good), and each store held every room key of its device, those of
    conversations erased later among them, where no erasure would find them (nio_erasure
    reads the current device's store). All of them, not only the last one replaced: a
    start killed right after its new login logs in once more."""
    keep = f"{current.user_id}_{current.device_id}.db"
    for path in store_dir.glob(f"{glob.escape(current.user_id)}_*.db*"):
        mine = path.name.startswith(keep) and path.name[len(keep):] in ("", "-wal", "-shm",
                                                                         "-journal")
        if not mine:
            path.unlink(missing_ok=True)


def mark_restored(store_dir: Path) -> None:
    """Make the next start log in as a new device (`RESTORED_MARKER`)."""
    if (store_dir / "session.sealed").exists():
        (store_dir / RESTORED_MARKER).touch(mode=0o600)


async def _revoked(client: AsyncClient) -> bool:
    """Whether the homeserver refuses the restored login (not merely unreachable: that is
    for the sync loop to wait out)."""
    answer = await client.whoami()
    return isinstance(answer, WhoamiError) and answer.status_code in LOGIN_GONE


def write_password(path: Path, password: str) -> None:
    write_private(path, password)
