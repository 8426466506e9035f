"""Device-trust policy: is a device cross-signed by its owner?"""

from __future__ import annotations

import copy
from typing import Any

import nacl.signing
import pytest

from e2e.canonical_json import encode_unpadded
from e2e.cross_signing import CrossSigningSeeds, sign_json, signatures_upload_body
from e2e.device_trust import (
    OwnerTrust,
    devices_not_cross_signed,
    is_cross_signed_by_owner,
    owner_trust,
)
from tests.e2e.crosssign_fakes import DEVICE, USER, device_keys, query_answer


@pytest.fixture
def seeds() -> CrossSigningSeeds:
    return CrossSigningSeeds.generate()


def cross_signed(seeds: CrossSigningSeeds) -> dict[str, Any]:
    device = device_keys()
    signed = signatures_upload_body(seeds, USER, DEVICE, device)[USER][DEVICE]
    # The server returns the merged signatures and the unsigned section again.
    device["signatures"][USER].update(signed["signatures"][USER])
    return query_answer(seeds, device)


def test_cross_signed_device(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.CROSS_SIGNED
    assert is_cross_signed_by_owner(query, USER, DEVICE)
    assert devices_not_cross_signed(query, USER) == ()


def test_uploaded_but_device_not_signed(seeds: CrossSigningSeeds) -> None:
    query = query_answer(seeds, device_keys())
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.DEVICE_NOT_SIGNED
    assert devices_not_cross_signed(query, USER) == (DEVICE,)


def test_no_identity(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    del query["master_keys"]
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.NO_MASTER_KEY


def test_unknown_device(seeds: CrossSigningSeeds) -> None:
    assert owner_trust(cross_signed(seeds), USER, "ELSE") is OwnerTrust.UNKNOWN_DEVICE
    assert owner_trust({}, USER, DEVICE) is OwnerTrust.UNKNOWN_DEVICE


def test_self_signing_key_signed_by_someone_else(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    ssk = query["self_signing_keys"][USER]
    ssk["signatures"] = {}
    impostor = nacl.signing.SigningKey.generate()
    master_id = next(iter(query["master_keys"][USER]["keys"]))
    query["self_signing_keys"][USER] = sign_json(ssk, impostor, USER, master_id)
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.SELF_SIGNING_NOT_TRUSTED


def test_device_signed_by_a_different_identity(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    other = query_answer(CrossSigningSeeds.generate(), device_keys())
    query["master_keys"] = other["master_keys"]
    query["self_signing_keys"] = other["self_signing_keys"]
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.DEVICE_NOT_SIGNED


def test_altered_device_keys(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    query["device_keys"][USER][DEVICE]["keys"][f"curve25519:{DEVICE}"] = encode_unpadded(
        b"\x01" * 32
    )
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.BAD_DEVICE_KEYS


def test_padded_signature_is_not_accepted(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    signatures = query["device_keys"][USER][DEVICE]["signatures"][USER]
    ssk_id = f"ed25519:{seeds.self_signing_public}"
    signatures[ssk_id] += "=="
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.DEVICE_NOT_SIGNED


def test_key_claimed_for_another_user(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    master = copy.deepcopy(query["master_keys"][USER])
    master["user_id"] = "@mallory:counsel.test"
    query["master_keys"][USER] = master
    assert owner_trust(query, USER, DEVICE) is OwnerTrust.NO_MASTER_KEY


def test_unverified_extra_device_listed(seeds: CrossSigningSeeds) -> None:
    query = cross_signed(seeds)
    query["device_keys"][USER]["NEWPHONE"] = device_keys(device_id="NEWPHONE")
    assert devices_not_cross_signed(query, USER) == ("NEWPHONE",)
