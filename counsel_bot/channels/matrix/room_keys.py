"""The bot's room keys for devices it learned of after it sent with them.

nio shares a room's Megolm session once, with the devices it knows of at that moment, and
then never again: a device whose keys the bot learns of a moment later (published just
after the room was made, a device list still on its way, a one-time key nobody could claim)
reads none of that session's messages. In a fresh room those are the first ones: a
counsellor's video link, a youth's greeting. nio then starts a new session for the next
message, and the first stays unreadable on that device for good: the bot answers no key
request of another account's (nio only serves the bot's own devices), and Element's current
apps ask only their own devices anyway.

So the bot keeps its recent sessions as it first shared them (in memory only: the keys are
in nio's store anyway, and after a restart a device learned late waits for the next
message) and gives a session to each device that should have had it, when it learns of the
device (a keys query), when nio skipped it (no Olm session could be made), or when the
device asks (`m.room_key_request`). Who may get one is decided in `e2e.room_key_sharing`:
never anyone who was not a member the session was shared for, or is not one now, never a
blacklisted device, and never a device the bot learned of well after it shared the session
(one that came after the messages).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from nio import AsyncClient, KeysClaimError, RoomKeyRequest, ToDeviceError
from nio.crypto import OlmDevice
from nio.event_builders import ToDeviceMessage

from e2e.room_key_sharing import LATE_WITHIN, Device, SentSession, may_give, missing

log = logging.getLogger(__name__)

MEGOLM = "m.megolm.v1.aes-sha2"
# Sessions kept per room: the one in use and those before it (nio starts a new one when it
# learns of a device, so the one a late device needs is the one before the current), and
# every one of the last `LATE_WITHIN` besides (a forum where youths come and go gets a new
# one at each join or leave, and a device learned of late needs each).
PER_ROOM = 3
# All kept sessions at most (an office's thousands of rooms): the oldest go first.
KEPT_MOST = 20_000
# Rounds a device with no Olm session (no one-time key to claim) is tried before given up.
TRIES = 5


class RoomKeys:
    def __init__(self, client: AsyncClient,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._sessions: OrderedDict[str, SentSession] = OrderedDict()  # by session id
        self._by_room: dict[str, list[str]] = {}
        # (session, user, device): when the bot learned of the device, and tries made.
        self._pending: dict[tuple[str, str, str], tuple[float, int]] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def shared(self, room_id: str) -> None:
        """nio has just shared the room's session (none of its messages sent yet): kept,
        and the recipients' devices nio skipped are given it next."""
        olm = self._client.olm
        room = self._client.rooms.get(room_id)
        outbound = None if olm is None else olm.outbound_group_sessions.get(room_id)
        if room is None or outbound is None or outbound.id in self._sessions:
            return
        session = SentSession(room_id, outbound.id, outbound.session_key,
                              frozenset(room.users) - {self._client.user_id},
                              self._clock(), set(outbound.users_shared_with))
        self._keep(session)
        self._want(session, [(user, device.id) for user in session.recipients
                             for device in olm.device_store.active_user_devices(user)])

    def learned(self, changed: Mapping[str, Mapping[str, OlmDevice]]) -> None:
        """A keys query brought new or changed devices: those the kept sessions were meant
        for are given them. Only those shared in the last `LATE_WITHIN` may be: the walk
        stops at the first older one (they are kept in the order shared), instead of
        queueing a counsellor's every kept key, up to `KEPT_MOST`, for the next round to
        drop while the sync loop waits."""
        oldest = self._clock() - LATE_WITHIN
        for session in reversed(self._sessions.values()):
            if session.shared_at < oldest:
                break
            self._want(session, [(user, device_id) for user in changed.keys()
                                 & session.recipients
                                 for device_id, device in changed[user].items()
                                 if not device.deleted])

    def requested(self, events: Iterable[Any]) -> None:
        """Key requests for the bot's own sessions (``events``: a sync's to-device events;
        the rest is ignored): asked for, given again, to whom the policy allows."""
        olm = self._client.olm
        if olm is None:
            return
        own_key = olm.account.identity_keys["curve25519"]
        for event in events:
            if not isinstance(event, RoomKeyRequest) or event.algorithm != MEGOLM \
                    or event.sender_key != own_key or event.sender == self._client.user_id:
                continue
            session = self._sessions.get(event.session_id)
            if session is None or session.room_id != event.room_id \
                    or event.sender not in session.recipients:
                continue  # never theirs: not worth a keys query (nor a place in nio's store)
            if event.requesting_device_id not in olm.device_store[event.sender]:
                # A device not known yet: the keys query it causes gives it the key.
                olm.users_for_key_query.add(event.sender)
                continue
            self._want(session, [(event.sender, event.requesting_device_id)], again=True)

    async def give(self) -> None:
        """Send each pending device its sessions (an Olm session claimed first where none
        is); what cannot be sent now is tried again at the next call."""
        olm = self._client.olm
        if olm is None or not self._pending:
            return
        wanted: list[tuple[SentSession, OlmDevice]] = []
        for (session_id, user, device_id), (learned_at, _) in list(self._pending.items()):
            session = self._sessions.get(session_id)
            device = olm.device_store[user].get(device_id)
            room = None if session is None else self._client.rooms.get(session.room_id)
            if session is None or device is None or device.deleted or room is None \
                    or not may_give(session, (user, device_id), own_user=self._client.user_id,
                                    members_now=room.users,
                                    blacklisted=olm.is_device_blacklisted(device),
                                    learned_at=learned_at):
                del self._pending[(session_id, user, device_id)]
                continue
            wanted.append((session, device))
        no_session: dict[str, list[str]] = {}
        for _, device in wanted:
            if olm.session_store.get(device.curve25519) is None:
                no_session.setdefault(device.user_id, []).append(device.id)
        if no_session:
            answer = await self._client.keys_claim(no_session)
            if isinstance(answer, KeysClaimError):
                log.warning("cannot claim one-time keys to give room keys (%s)",
                            answer.status_code)
        for session, device in wanted:
            await self._give(session, device)

    async def _give(self, session: SentSession, device: OlmDevice) -> None:
        olm = self._client.olm
        assert olm is not None
        key = (session.session_id, device.user_id, device.id)
        if key not in self._pending:
            return  # given meanwhile (the same device twice in one round)
        olm_session = olm.session_store.get(device.curve25519)
        if olm_session is None:
            learned_at, tries = self._pending[key]
            self._pending[key] = (learned_at, tries + 1)
            if tries + 1 >= TRIES:
                del self._pending[key]
                log.warning("a device has no one-time keys left; a room key could not be "
                            "given to it")
            return
        # nio's own encryption of a to-device message (as it shares a session itself).
        content = olm._olm_encrypt(olm_session, device, "m.room_key", session.key_content())
        answer = await self._client.to_device(
            ToDeviceMessage("m.room.encrypted", device.user_id, device.id, content))
        if isinstance(answer, ToDeviceError):
            log.warning("a room key for a device learned late was refused (%s); tried again",
                        answer.status_code)
            return
        # Not ``del``: the session may have been dropped while the key was on its way (a
        # lane's send in the room made a fourth since), and an error here stops the bot.
        self._pending.pop(key, None)
        session.gave((device.user_id, device.id), self._clock())
        log.info("gave a room key to a device the bot learned of after it was shared")

    def forget_room(self, room_id: str) -> None:
        """The room was erased (purged, its keys gone from nio's store): its kept keys go
        too, and nobody is given one again (nio keeps a room the bot was put out of, with
        the members it had then)."""
        for session_id in list(self._by_room.get(room_id, [])):
            self._forget(session_id)

    def _want(self, session: SentSession, devices: list[Device], *,
              again: bool = False) -> None:
        """``again``: also to devices that had it (they asked: they lost it)."""
        now = self._clock()
        wanted = [d for d in devices if d[0] in session.recipients] if again \
            else missing(session, devices)
        for user, device_id in wanted:
            if (user, device_id) == (self._client.user_id, self._client.device_id):
                continue
            self._pending.setdefault((session.session_id, user, device_id), (now, 0))

    def _keep(self, session: SentSession) -> None:
        self._sessions[session.session_id] = session
        ids = self._by_room.setdefault(session.room_id, [])
        ids.append(session.session_id)
        recent = session.shared_at - LATE_WITHIN
        while len(ids) > PER_ROOM and self._sessions[ids[0]].shared_at < recent:
            self._forget(ids[0])
        while len(self._sessions) > KEPT_MOST:
            self._forget(next(iter(self._sessions)))

    def _forget(self, session_id: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        ids = self._by_room.get(session.room_id, [])
        if session_id in ids:
            ids.remove(session_id)
        if not ids:
            self._by_room.pop(session.room_id, None)
        for key in [k for k in self._pending if k[0] == session_id]:
            del self._pending[key]
