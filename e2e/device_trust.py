"""Is a device cross-signed by its owner? Decided from a ``keys/query`` answer, no I/O.

"Cross-signed by its owner" is what Element's strict mode requires: the owner's self-signing
key carries a valid signature of the owner's master key, and the device's keys carry a valid
signature of that self-signing key. It says nothing about whether *we* trust the owner's
master key (nobody verifies a youth's identity); it tells a counsellor whether a device is one
the account itself vouches for, or an unverified extra device.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import nacl.exceptions
import nacl.signing

from e2e.canonical_json import decode_unpadded, signable_bytes


class OwnerTrust(enum.Enum):
    CROSS_SIGNED = "cross-signed by its owner"
    UNKNOWN_DEVICE = "device not published"
    BAD_DEVICE_KEYS = "device keys malformed or not signed by the device itself"
    NO_MASTER_KEY = "owner has no cross-signing identity"
    SELF_SIGNING_NOT_TRUSTED = "self-signing key missing or not signed by the master key"
    DEVICE_NOT_SIGNED = "device not signed by its owner"


def owner_trust(query: Mapping[str, Any], user_id: str, device_id: str) -> OwnerTrust:
    """Classify ``device_id`` of ``user_id`` in a ``POST /keys/query`` response body."""
    device = query.get("device_keys", {}).get(user_id, {}).get(device_id)
    if not isinstance(device, Mapping):
        return OwnerTrust.UNKNOWN_DEVICE
    if not _device_self_signed(device, user_id, device_id):
        return OwnerTrust.BAD_DEVICE_KEYS
    master = cross_signing_public_key(query.get("master_keys", {}).get(user_id), user_id, "master")
    if master is None:
        return OwnerTrust.NO_MASTER_KEY
    ssk_obj = query.get("self_signing_keys", {}).get(user_id)
    ssk = cross_signing_public_key(ssk_obj, user_id, "self_signing")
    if ssk is None or not verify_signature(ssk_obj, user_id, f"ed25519:{master}", master):
        return OwnerTrust.SELF_SIGNING_NOT_TRUSTED
    if not verify_signature(device, user_id, f"ed25519:{ssk}", ssk):
        return OwnerTrust.DEVICE_NOT_SIGNED
    return OwnerTrust.CROSS_SIGNED


def is_cross_signed_by_owner(query: Mapping[str, Any], user_id: str, device_id: str) -> bool:
    return owner_trust(query, user_id, device_id) is OwnerTrust.CROSS_SIGNED


def devices_not_cross_signed(query: Mapping[str, Any], user_id: str) -> tuple[str, ...]:
    """The published devices of ``user_id`` that their owner has not cross-signed, sorted."""
    devices = query.get("device_keys", {}).get(user_id, {})
    return tuple(sorted(d for d in devices if not is_cross_signed_by_owner(query, user_id, d)))


def verify_signature(obj: Any, user_id: str, key_id: str, public_b64: str) -> bool:
    """Does ``obj`` carry a valid Ed25519 signature by ``key_id`` of ``user_id``?"""
    if not isinstance(obj, Mapping):
        return False
    signature = obj.get("signatures", {}).get(user_id, {}).get(key_id)
    if not isinstance(signature, str):
        return False
    try:
        verify_key = nacl.signing.VerifyKey(decode_unpadded(public_b64))
        verify_key.verify(signable_bytes(obj), decode_unpadded(signature))
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return False
    return True


def cross_signing_public_key(obj: Any, user_id: str, usage: str) -> str | None:
    """The one Ed25519 public key of a CrossSigningKey object, if it is well-formed."""
    if not isinstance(obj, Mapping) or obj.get("user_id") != user_id:
        return None
    if usage not in (obj.get("usage") or ()):
        return None
    keys = obj.get("keys")
    if not isinstance(keys, Mapping) or len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    if not isinstance(public, str) or key_id != f"ed25519:{public}":
        return None
    return public


def _device_self_signed(device: Mapping[str, Any], user_id: str, device_id: str) -> bool:
    if device.get("user_id") != user_id or device.get("device_id") != device_id:
        return False
    public = (device.get("keys") or {}).get(f"ed25519:{device_id}")
    return isinstance(public, str) and verify_signature(
        device, user_id, f"ed25519:{device_id}", public
    )
