"""The bot's cross-signing identity, as pure data (no I/O).

matrix-nio has no cross-signing, and Element's strict mode (MSC4153) refuses devices their
owner has not cross-signed. This module builds the request bodies for
``POST /_matrix/client/v3/keys/device_signing/upload`` and ``.../keys/signatures/upload``;
``cross_signing_upload`` sends them.

The three private Ed25519 seeds live sealed in the vault and are reused on every start: a new
identity per restart makes Element warn about an "identity reset".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import nacl.signing
import nacl.utils

from e2e.canonical_json import encode_unpadded, signable_bytes
from e2e.errors import CrossSigningError

SEED_BYTES = 32
_SEEDS_VERSION = 1

MASTER = "master"
SELF_SIGNING = "self_signing"
USER_SIGNING = "user_signing"


def ed25519_key_id(public_key_b64: str) -> str:
    """Matrix names a cross-signing key by its own unpadded base64 public key."""
    return f"ed25519:{public_key_b64}"


def public_key_b64(signing_key: nacl.signing.SigningKey) -> str:
    return encode_unpadded(bytes(signing_key.verify_key))


@dataclass(frozen=True, repr=False)
class CrossSigningSeeds:
    """The private seeds of the master, self-signing and user-signing keys."""

    master: bytes
    self_signing: bytes
    user_signing: bytes

    def __post_init__(self) -> None:
        for seed in (self.master, self.self_signing, self.user_signing):
            if len(seed) != SEED_BYTES:
                raise CrossSigningError(
                    "a cross-signing seed has the wrong length; the stored seeds are damaged. "
                    "Restore the vault, or remove the stored seeds to create a new identity "
                    "(users will see an identity reset)"
                )

    def __repr__(self) -> str:
        # Public halves only: seeds must never reach a log line.
        return f"CrossSigningSeeds(master={self.master_public!r})"

    @classmethod
    def generate(cls) -> Self:
        return cls(*(nacl.utils.random(SEED_BYTES) for _ in range(3)))

    def to_bytes(self) -> bytes:
        """97 bytes (version + three seeds), meant to be sealed in the vault."""
        return bytes([_SEEDS_VERSION]) + self.master + self.self_signing + self.user_signing

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        if len(raw) != 1 + 3 * SEED_BYTES or raw[0] != _SEEDS_VERSION:
            raise CrossSigningError(
                "the stored cross-signing seeds are in an unknown format; restore the vault "
                "from a backup or upgrade counsel"
            )
        n = SEED_BYTES
        return cls(raw[1 : 1 + n], raw[1 + n : 1 + 2 * n], raw[1 + 2 * n :])

    def signing_key(self, usage: str) -> nacl.signing.SigningKey:
        seed = {
            MASTER: self.master,
            SELF_SIGNING: self.self_signing,
            USER_SIGNING: self.user_signing,
        }
        return nacl.signing.SigningKey(seed[usage])

    @property
    def master_public(self) -> str:
        return public_key_b64(self.signing_key(MASTER))

    @property
    def self_signing_public(self) -> str:
        return public_key_b64(self.signing_key(SELF_SIGNING))

    @property
    def user_signing_public(self) -> str:
        return public_key_b64(self.signing_key(USER_SIGNING))


def sign_json(
    obj: Mapping[str, Any], signing_key: nacl.signing.SigningKey, user_id: str, key_id: str
) -> dict[str, Any]:
    """Return a copy of ``obj`` with one more signature, per the spec's "Signing JSON"."""
    signature = signing_key.sign(signable_bytes(obj)).signature
    signed = copy.deepcopy(dict(obj))
    signed.pop("unsigned", None)
    signatures = signed.setdefault("signatures", {})
    signatures.setdefault(user_id, {})[key_id] = encode_unpadded(signature)
    return signed


def cross_signing_key(user_id: str, usage: str, public_b64: str) -> dict[str, Any]:
    """An unsigned CrossSigningKey object."""
    return {
        "user_id": user_id,
        "usage": [usage],
        "keys": {ed25519_key_id(public_b64): public_b64},
    }


def master_key(seeds: CrossSigningSeeds, user_id: str) -> dict[str, Any]:
    return cross_signing_key(user_id, MASTER, seeds.master_public)


def device_signing_upload_body(seeds: CrossSigningSeeds, user_id: str) -> dict[str, Any]:
    """Body of ``POST /keys/device_signing/upload`` (without ``auth``)."""
    master = seeds.signing_key(MASTER)
    master_id = ed25519_key_id(seeds.master_public)
    return {
        "master_key": master_key(seeds, user_id),
        "self_signing_key": sign_json(
            cross_signing_key(user_id, SELF_SIGNING, seeds.self_signing_public),
            master,
            user_id,
            master_id,
        ),
        "user_signing_key": sign_json(
            cross_signing_key(user_id, USER_SIGNING, seeds.user_signing_public),
            master,
            user_id,
            master_id,
        ),
    }


def signed_device_keys(
    seeds: CrossSigningSeeds, user_id: str, device_id: str, device_keys: Mapping[str, Any]
) -> dict[str, Any]:
    """``device_keys`` (as from keys/query) carrying only the self-signing key's signature.

    Synapse compares the upload with the stored device keys minus ``signatures`` and
    ``unsigned``, so the other signatures need not travel.
    """
    if device_keys.get("user_id") != user_id or device_keys.get("device_id") != device_id:
        raise CrossSigningError(
            "the device keys to sign belong to another user or device; this is a bug in the "
            "caller, report it"
        )
    bare = {k: v for k, v in device_keys.items() if k not in ("signatures", "unsigned")}
    return sign_json(
        bare,
        seeds.signing_key(SELF_SIGNING),
        user_id,
        ed25519_key_id(seeds.self_signing_public),
    )


def signatures_upload_body(
    seeds: CrossSigningSeeds, user_id: str, device_id: str, device_keys: Mapping[str, Any]
) -> dict[str, Any]:
    """Body of ``POST /keys/signatures/upload``: the device signed by the self-signing key."""
    return {user_id: {device_id: signed_device_keys(seeds, user_id, device_id, device_keys)}}


def master_key_signed_by_device(
    seeds: CrossSigningSeeds, user_id: str, device_id: str, device_signature_b64: str
) -> dict[str, Any]:
    """The master key carrying the device's signature (optional: only the owner's devices
    use it). ``device_signature_b64`` is the device's Ed25519 signature (nio:
    ``client.olm.account.sign``) over ``master_key_signing_payload``; it is added as given.
    """
    signed = master_key(seeds, user_id)
    signed["signatures"] = {user_id: {f"ed25519:{device_id}": device_signature_b64}}
    return signed


def master_key_signing_payload(seeds: CrossSigningSeeds, user_id: str) -> bytes:
    """The canonical bytes a device signs to vouch for the master key."""
    return signable_bytes(master_key(seeds, user_id))
