"""Are all of a staff member's devices cross-signed by them? Decided from keys/query, no I/O.

Element's strict mode (MSC4153, "exclude insecure devices") neither sends room keys to nor
decrypts from a device its owner has not cross-signed. A counsellor writing from such a
device is unreadable for those youths, so the bot checks staff devices when they go on duty
and whenever their device list changes, tells them in the staff room how to verify, and
routes to counsellors whose devices are all signed first.

The signature checks themselves are ``e2e.device_trust`` (canonical JSON, unpadded base64,
PyNaCl); this module turns one user's part of a ``keys/query`` answer into a decision, and
says when a change is news for the staff room.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from counsel_bot.core.ids import UserID
from e2e.device_trust import cross_signing_public_key, devices_not_cross_signed, verify_signature


@dataclass(frozen=True)
class DeviceTrustCheck:
    """One staff member's devices as the homeserver published them."""

    user: UserID
    # A master key is published and the self-signing key carries its valid signature.
    has_identity: bool
    # Published devices the owner's self-signing key has not (validly) signed, sorted.
    unsigned_devices: tuple[str, ...]
    # How many devices are published at all. None: a check that did not count them.
    devices: int | None = None
    # The owner's master key (unpadded base64) when ``has_identity``; None otherwise.
    identity: str | None = None
    # Published devices the owner's self-signing key has signed, sorted.
    signed_devices: tuple[str, ...] = ()

    @property
    def all_signed(self) -> bool:
        return not self.unsigned_devices


def check_devices(query: Mapping[str, Any], user: UserID) -> DeviceTrustCheck:
    """Classify ``user``'s devices in a ``POST /keys/query`` response body.

    A user with no published devices has nothing unreadable and counts as all signed.
    """
    published = query.get("device_keys", {}).get(user) or {}
    unsigned = devices_not_cross_signed(query, user)
    identity = _identity(query, user)
    return DeviceTrustCheck(
        user=user,
        has_identity=identity is not None,
        unsigned_devices=unsigned,
        devices=len(published),
        identity=identity,
        signed_devices=tuple(sorted(d for d in published if d not in unsigned)),
    )


def _identity(query: Mapping[str, Any], user: UserID) -> str | None:
    """The master key, if the self-signing key carries its valid signature."""
    master = cross_signing_public_key(query.get("master_keys", {}).get(user), user, "master")
    if master is None:
        return None
    ssk_obj = query.get("self_signing_keys", {}).get(user)
    if cross_signing_public_key(ssk_obj, user, "self_signing") is None:
        return None
    return master if verify_signature(ssk_obj, user, f"ed25519:{master}", master) else None


class TrustNews(enum.Enum):
    """What the staff room is told after a check."""

    NOTHING = "nothing"
    # Devices that were not unsigned before are now: name them, with the steps to verify.
    NEW_UNSIGNED = "new_unsigned"
    # Everything is signed now, after a warning: say the warning no longer applies.
    CLEARED = "cleared"
    # The owner's cross-signing identity is not the one seen before: a reset by the owner,
    # or by someone with their password, whose own sessions it now vouches for.
    IDENTITY_CHANGED = "identity_changed"


@dataclass(frozen=True)
class TrustDecision:
    news: TrustNews
    # The unsigned devices to remember as announced (the next check compares with these).
    unsigned: frozenset[str]


def decide(
    announced: frozenset[str], check: DeviceTrustCheck, known_identity: str | None = None
) -> TrustDecision:
    """Compare a check with the unsigned devices already announced for that user, and with
    the identity (master key) seen for them before (None: none seen yet).

    Only new unsigned devices are news, so a device-list change that adds nothing unsigned
    (a display-name edit, another signed login) does not repeat the warning. A different
    identity comes first: whoever replaced it may have signed their own session with it,
    which then counts as signed, so the unsigned devices alone would never name it.
    """
    current = frozenset(check.unsigned_devices)
    if known_identity is not None and check.identity not in (None, known_identity):
        return TrustDecision(TrustNews.IDENTITY_CHANGED, current)
    if current - announced:
        return TrustDecision(TrustNews.NEW_UNSIGNED, current)
    if announced and not current:
        return TrustDecision(TrustNews.CLEARED, current)
    return TrustDecision(TrustNews.NOTHING, current)


def encode_unsigned(devices: frozenset[str]) -> str:
    """For the store's settings (device ids are opaque strings: JSON keeps them intact)."""
    return json.dumps(sorted(devices))


def decode_unsigned(stored: str | None) -> frozenset[str]:
    if not stored:
        return frozenset()
    try:
        value = json.loads(stored)
    except ValueError:
        return frozenset()  # unreadable: the next check announces again, which is safe
    return frozenset(str(d) for d in value) if isinstance(value, list) else frozenset()
