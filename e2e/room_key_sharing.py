"""Who may get a room key the bot already sent messages with, decided without I/O.

A Megolm session is shared once, with the devices the bot knows of at that moment; a
device it learns of a moment later (its keys published just after, a device list still on
its way) would read none of that session's messages, the first link or greeting in a fresh
room among them. The bot therefore gives such a device the session as it first shared it,
but only where it would have shared it then, had it known the device:

- the device's owner was among the members (joined or invited) the session was shared for,
  and is a member of the room still (never anyone who came later, or left since);
- the device is not blacklisted, and is not one of the bot's own;
- the key is the one first shared (from the session's first message on), never more;
- the bot learned of the device soon after it shared the session (`LATE_WITHIN`: a sync
  round or a keys query late, even under load), or the device had the key and asks again;
- a device the bot gave the key itself gets it again only `GIVE_AGAIN_AFTER` later: one
  that lost it asks once, one that asks over and over would otherwise make the bot send
  it each time (an Olm message, a store write and a request, in the sync loop).
  A device that came later is one that came after the messages, as Megolm treats it: it
  reads from the next session on (a session stolen with a password must not read the bot's
  earlier messages in the room, a youth's transcript among them).

Who counts as the same person is the account: a member's devices are theirs, as for every
message the bot sends (it shares with unverified devices too, since nobody verifies a youth).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

Device = tuple[str, str]  # (user id, device id)

# How long after a session was shared a device the bot learns of still counts as one it
# only learned of late (its keys were on their way), not as one that came after.
LATE_WITHIN = 120.0
# How long a device the bot gave a key waits before it is given that key again.
GIVE_AGAIN_AFTER = 120.0


@dataclass(frozen=True)
class SentSession:
    """One of the bot's own Megolm sessions, as it was first shared."""

    room_id: str
    session_id: str
    session_key: str  # the key as first shared: from the session's first message on
    recipients: frozenset[str]  # the room's members (joined or invited) it was shared for
    shared_at: float  # when (monotonic seconds)
    given: set[Device] = field(default_factory=set, compare=False)  # devices that have it
    # Devices the bot gave it itself (late, or asked again), and when.
    given_at: dict[Device, float] = field(default_factory=dict, compare=False)

    def gave(self, device: Device, at: float) -> None:
        self.given.add(device)
        self.given_at[device] = at

    def key_content(self) -> dict[str, str]:
        """The `m.room_key` content, as the session was first shared."""
        return {"algorithm": "m.megolm.v1.aes-sha2", "room_id": self.room_id,
                "session_id": self.session_id, "session_key": self.session_key}


def may_give(session: SentSession, device: Device, *, own_user: str,
             members_now: Collection[str], blacklisted: bool, learned_at: float) -> bool:
    """Whether ``device``, which the bot learned of (or heard asking) at ``learned_at``,
    may get ``session``'s key now (see the module)."""
    user, _ = device
    late = learned_at - session.shared_at <= LATE_WITHIN
    last = session.given_at.get(device)
    again_soon = last is not None and learned_at - last < GIVE_AGAIN_AFTER
    return (user != own_user and user in session.recipients and user in members_now
            and not blacklisted and (late or device in session.given) and not again_soon)


def missing(session: SentSession, devices: Iterable[Device]) -> list[Device]:
    """The ``devices`` of the session's recipients that have not got it, in order."""
    return [d for d in devices if d[0] in session.recipients and d not in session.given]
