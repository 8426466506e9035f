"""Staff devices their owner has not cross-signed: warned about in the staff room, kept in
the store's settings (so a restart does not warn again), and handed to the router, which
routes to colleagues whose devices are all signed first. ``!duty on`` with such a device is
refused or only warned about, as configured.

A counsellor on duty with no device left (logged out everywhere, or the account deactivated,
which deletes every device) can read nothing: they go off duty, unplanned, and their youths
back to the queue. Without that, routing went on giving youths to an account that no longer
existed, and each waited for the response timer (an outside review, 2026-12-06). Nor can a
team lead without a device be rung: a crisis page calls somebody else (`reachable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import left_for_nobody
from counsel_bot.conversation.change import Change
from counsel_bot.core.device_trust_check import (
    DeviceTrustCheck,
    TrustDecision,
    TrustNews,
    decide,
    decode_unsigned,
    encode_unsigned,
)
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import HandoverReason

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


def device_trust_key(user: UserID) -> str:
    """Settings key of a staff member's announced unsigned devices (staff ids only)."""
    return f"device_trust:{user}"


def no_devices_key(user: UserID) -> str:
    """Settings key: the staff member had no device left at the last check ("1")."""
    return f"device_none:{user}"


def identity_key(user: UserID) -> str:
    """Settings key of the cross-signing identity (master key) last seen for a staff member."""
    return f"device_identity:{user}"


class StaffDevices:
    def __init__(self, conductor: Conductor) -> None:
        self.conductor = conductor
        # Staff devices not cross-signed by their owner, as last checked and announced.
        self.unsigned: dict[UserID, frozenset[str]] = {}
        # The cross-signing identity (master key) seen for each staff member: a different
        # one later is told, since it vouches for whatever sessions its maker signed.
        self.identities: dict[UserID, str] = {}
        # Staff with no device left at their last check: a page must not rely on them. Kept
        # in the store, since a start checks only the counsellors on duty, not the leads.
        self.without_devices: set[UserID] = set()

    async def load(self) -> None:
        c = self.conductor
        for user in c.policy.staff:
            unsigned = decode_unsigned(await c.store.get_setting(device_trust_key(user)))
            if unsigned:
                self.unsigned[user] = unsigned
            identity = await c.store.get_setting(identity_key(user))
            if identity:
                self.identities[user] = identity
            if await c.store.get_setting(no_devices_key(user)):
                self.without_devices.add(user)
        c.router.unsigned = self.unsigned_staff()

    def unsigned_staff(self) -> frozenset[UserID]:
        return frozenset(self.unsigned)

    def reachable(self, users: tuple[UserID, ...]) -> tuple[UserID, ...]:
        """Those of ``users`` a page can ring: not without a device at their last check."""
        return tuple(u for u in users if u not in self.without_devices)

    async def checked(self, check: DeviceTrustCheck, at: datetime) -> None:
        """A staff member's devices were checked (on duty, or their device list changed):
        warn in the staff room about new unsigned devices, say so once all are signed, and
        route to colleagues whose devices are all signed first meanwhile."""
        user = check.user
        if user not in self.conductor.policy.staff:
            return
        if check.devices == 0:
            await self._off_duty_without_devices(user, at)
        if check.devices is not None:
            await self._count_devices(user, check.devices == 0, at)
        before = self.unsigned.get(user, frozenset())
        known = self.identities.get(user)
        decision = decide(before, check, known)
        # An identity withdrawn is no new one: the one seen stays the yardstick.
        identity = check.identity or known
        if decision.news is not TrustNews.NOTHING or decision.unsigned != before \
                or identity != known:
            await self._announce(check, decision, before, known, identity, at)
        if decision.unsigned and self.conductor.policy.refuse_unsigned_devices:
            await self._off_duty_unsigned(user, decision.unsigned, at)
            await self._stop_reading_along(user, decision.unsigned, at)

    async def _announce(self, check: DeviceTrustCheck, decision: TrustDecision,
                        before: frozenset[str], known: str | None, identity: str | None,
                        at: datetime) -> None:
        user = check.user
        step = Change(at, None)
        # Keyed by time: the same device may need a warning again after an identity reset.
        tag = f"device_trust:{user}:{decision.news.value}:{at.isoformat()}"
        if decision.news is TrustNews.NEW_UNSIGNED:
            step.add(SayToStaff("staff_unsigned_devices",
                                (("counsellor", user), ("devices", _devices(decision.unsigned))),
                                mentions=(user,)), tag)
        elif decision.news is TrustNews.CLEARED:
            step.add(SayToStaff("staff_devices_verified", (("counsellor", user),),
                                mentions=(user,)), tag)
        elif decision.news is TrustNews.IDENTITY_CHANGED:
            step.add(SayToStaff("staff_identity_changed",
                                (("counsellor", user),
                                 ("devices", _devices(frozenset(check.signed_devices)))),
                                mentions=(user,)), tag)
        step.settings.append((device_trust_key(user), encode_unsigned(decision.unsigned)))
        if identity is not None:
            step.settings.append((identity_key(user), identity))
        self._set(user, decision.unsigned)
        self._remember(user, identity)
        try:
            await self.conductor.commit(step)
        except BaseException:
            self._set(user, before)
            self._remember(user, known)
            raise

    async def _off_duty_unsigned(self, user: UserID, unsigned: frozenset[str],
                                 at: datetime) -> None:
        """"refuse": not on duty until every session is verified, as ``!duty on`` keeps it,
        also for a session added on duty (a new phone, or whoever has the password): kept
        on duty, the next youth and the room's keys went to it."""
        await self._off_duty(user, at, SayToStaff(
            "staff_unsigned_off_duty", (("counsellor", user), ("devices", _devices(unsigned))),
            mentions=(user,)), f"unsigned-off-duty:{user}:{at.isoformat()}")

    async def _stop_reading_along(self, user: UserID, unsigned: frozenset[str],
                                  at: datetime) -> None:
        """"refuse", for a lead reading along as for `!supervise`: in the youth's room the
        unverified session gets the room's keys. The lead goes, the youth told, and the
        lead learns why."""
        c = self.conductor
        step = Change(at, None)
        for conversation in sorted(read for read, leads in c.supervision.leads.items()
                                   if user in leads):
            current = c.router.conversation(conversation)
            if current is None:
                continue
            c.supervision.left(step, current, user)
            step.add(SayToStaff("supervise.unsigned_ended",
                                (("id", conversation), ("devices", _devices(unsigned))),
                                mentions=(user,)),
                     f"unsigned-reading:{user}:{conversation}:{at.isoformat()}")
        if step.effects:
            await c.commit(step)

    async def _off_duty_without_devices(self, user: UserID, at: datetime) -> None:
        await self._off_duty(user, at, SayToStaff("staff_no_devices_off_duty",
                                                  (("counsellor", user),)),
                             f"no-devices:{user}:{at.isoformat()}")

    async def _off_duty(self, user: UserID, at: datetime, notice: SayToStaff, tag: str) -> None:
        """The bot signs ``user`` off (unplanned: their youths are handed back) and tells
        the staff why; nothing if they are not on duty."""
        current = self.conductor.router.counsellor(user)
        if current is None or not current.on_duty:
            return
        c = self.conductor
        step = Change(at, None)
        c.handle(step, [ev.CounsellorOffDuty(at, user, HandoverReason.UNPLANNED)],
                 reply_room=None)
        step.add(notice, tag)
        left_for_nobody.call_leads(c, step, user, "staff_left_for_nobody", tag,
                                   still_here=False)
        await c.commit(step)

    async def _count_devices(self, user: UserID, none_left: bool, at: datetime) -> None:
        if none_left == (user in self.without_devices):
            return
        step = Change(at, None)
        step.settings.append((no_devices_key(user), "1" if none_left else ""))
        await self.conductor.commit(step)
        if none_left:
            self.without_devices.add(user)
        else:
            self.without_devices.discard(user)

    def _remember(self, user: UserID, identity: str | None) -> None:
        if identity is None:
            self.identities.pop(user, None)
        else:
            self.identities[user] = identity

    def _set(self, user: UserID, unsigned: frozenset[str]) -> None:
        if unsigned:
            self.unsigned[user] = unsigned
        else:
            self.unsigned.pop(user, None)
        self.conductor.router.unsigned = self.unsigned_staff()

    def refused(self, step: Change, room_id: RoomID, sender: UserID, key: str) -> bool:
        """With ``unsigned_devices = "refuse"``: True, and ``sender`` told why with ``key``,
        if a session of theirs is not verified. What would bring them into a youth's room
        (duty, reading along) waits for it: there, every session of theirs gets the
        room's keys."""
        unsigned = self.unsigned.get(sender)
        if not unsigned or not self.conductor.policy.refuse_unsigned_devices:
            return False
        step.add(SayInRoom(room_id, sender, key, (("devices", _devices(unsigned)),)))
        return True

    def duty_on(self, step: Change, room_id: RoomID, sender: UserID,
                event: ev.StaffEvent) -> None:
        """``!duty on``: with a device its owner has not signed, refused or warned (config)."""
        if self.refused(step, room_id, sender, "duty.unsigned_refused"):
            return
        self.conductor.handle(step, [event], reply_room=room_id)
        if unsigned := self.unsigned.get(sender):
            step.add(SayInRoom(room_id, sender, "duty.unsigned_warn",
                               (("devices", _devices(unsigned)),)))


def _devices(unsigned: frozenset[str]) -> str:
    return ", ".join(sorted(unsigned))
