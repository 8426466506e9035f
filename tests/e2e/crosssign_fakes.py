"""Fake keys/query material for the pure cross-signing and device-trust tests."""

from __future__ import annotations

from typing import Any

import nacl.signing

from e2e.canonical_json import encode_unpadded
from e2e.cross_signing import CrossSigningSeeds, device_signing_upload_body, sign_json

USER = "@bot:counsel.test"
DEVICE = "BOTDEVICE"


def device_keys(
    user_id: str = USER, device_id: str = DEVICE, key: nacl.signing.SigningKey | None = None
) -> dict[str, Any]:
    """A device key object as keys/query returns it: self-signed, with ``unsigned``."""
    key = key or nacl.signing.SigningKey.generate()
    public = encode_unpadded(bytes(key.verify_key))
    obj = {
        "user_id": user_id,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {
            f"curve25519:{device_id}": encode_unpadded(bytes(32)),
            f"ed25519:{device_id}": public,
        },
    }
    signed = sign_json(obj, key, user_id, f"ed25519:{device_id}")
    signed["unsigned"] = {"device_display_name": "Ünïcode phone"}
    return signed


def query_answer(
    seeds: CrossSigningSeeds, device: dict[str, Any], user_id: str = USER
) -> dict[str, Any]:
    """A keys/query answer after a full upload of ``seeds`` (device not yet signed)."""
    body = device_signing_upload_body(seeds, user_id)
    return {
        "failures": {},
        "device_keys": {user_id: {device["device_id"]: device}},
        "master_keys": {user_id: body["master_key"]},
        "self_signing_keys": {user_id: body["self_signing_key"]},
        "user_signing_keys": {user_id: body["user_signing_key"]},
    }
