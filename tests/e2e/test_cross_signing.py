"""Cross-signing request bodies, checked by verifying every signature with PyNaCl."""

from __future__ import annotations

from typing import Any

import nacl.exceptions
import nacl.signing
import pytest

from e2e.canonical_json import decode_unpadded, encode_unpadded, signable_bytes
from e2e.cross_signing import (
    CrossSigningSeeds,
    device_signing_upload_body,
    master_key_signed_by_device,
    master_key_signing_payload,
    signatures_upload_body,
)
from e2e.errors import CrossSigningError
from tests.e2e.crosssign_fakes import DEVICE, USER, device_keys


def verify(obj: dict[str, Any], user_id: str, key_id: str, public_b64: str) -> None:
    signature = decode_unpadded(obj["signatures"][user_id][key_id])
    nacl.signing.VerifyKey(decode_unpadded(public_b64)).verify(signable_bytes(obj), signature)


def only_key(obj: dict[str, Any]) -> tuple[str, str]:
    ((key_id, public),) = obj["keys"].items()
    return key_id, public


def test_seeds_generate_and_round_trip() -> None:
    seeds = CrossSigningSeeds.generate()
    assert len({seeds.master, seeds.self_signing, seeds.user_signing}) == 3
    raw = seeds.to_bytes()
    assert len(raw) == 97
    assert CrossSigningSeeds.from_bytes(raw) == seeds
    assert CrossSigningSeeds.generate() != seeds


@pytest.mark.parametrize("raw", [b"", b"\x01" + bytes(96 - 1), b"\x02" + bytes(96)])
def test_seeds_from_bad_bytes(raw: bytes) -> None:
    with pytest.raises(CrossSigningError):
        CrossSigningSeeds.from_bytes(raw)


def test_seed_length_checked() -> None:
    with pytest.raises(CrossSigningError):
        CrossSigningSeeds(bytes(31), bytes(32), bytes(32))


def test_repr_shows_no_seed() -> None:
    seeds = CrossSigningSeeds.generate()
    text = repr(seeds)
    for seed in (seeds.master, seeds.self_signing, seeds.user_signing):
        assert encode_unpadded(seed) not in text
        assert seed.hex() not in text
    assert seeds.master_public in text


def test_device_signing_upload_body() -> None:
    seeds = CrossSigningSeeds.generate()
    body = device_signing_upload_body(seeds, USER)
    assert set(body) == {"master_key", "self_signing_key", "user_signing_key"}

    master, ssk, usk = body["master_key"], body["self_signing_key"], body["user_signing_key"]
    for obj, usage, public in [
        (master, "master", seeds.master_public),
        (ssk, "self_signing", seeds.self_signing_public),
        (usk, "user_signing", seeds.user_signing_public),
    ]:
        assert obj["user_id"] == USER
        assert obj["usage"] == [usage]
        assert obj["keys"] == {f"ed25519:{public}": public}
        assert "=" not in public
        assert len(decode_unpadded(public)) == 32
    assert "signatures" not in master

    master_id, master_public = only_key(master)
    for signed in (ssk, usk):
        assert list(signed["signatures"]) == [USER]
        assert list(signed["signatures"][USER]) == [master_id]
        assert "=" not in signed["signatures"][USER][master_id]
        verify(signed, USER, master_id, master_public)


def test_signature_by_wrong_key_does_not_verify() -> None:
    seeds = CrossSigningSeeds.generate()
    ssk = device_signing_upload_body(seeds, USER)["self_signing_key"]
    master_id, _ = only_key(device_signing_upload_body(seeds, USER)["master_key"])
    with pytest.raises(nacl.exceptions.BadSignatureError):
        verify(ssk, USER, master_id, seeds.user_signing_public)


def test_public_keys_are_stable_for_stored_seeds() -> None:
    seeds = CrossSigningSeeds.generate()
    again = CrossSigningSeeds.from_bytes(seeds.to_bytes())
    assert device_signing_upload_body(again, USER) == device_signing_upload_body(seeds, USER)


def test_signatures_upload_body_signs_device_with_self_signing_key() -> None:
    seeds = CrossSigningSeeds.generate()
    device = device_keys()
    body = signatures_upload_body(seeds, USER, DEVICE, device)
    signed = body[USER][DEVICE]
    assert list(body) == [USER]
    assert list(body[USER]) == [DEVICE]
    assert "unsigned" not in signed
    # Everything but the signatures is exactly what the server stored.
    assert signable_bytes(signed) == signable_bytes(device)
    ssk_id = f"ed25519:{seeds.self_signing_public}"
    assert signed["signatures"] == {USER: {ssk_id: signed["signatures"][USER][ssk_id]}}
    verify(signed, USER, ssk_id, seeds.self_signing_public)
    # The caller's object is left alone.
    assert "unsigned" in device
    assert ssk_id not in device["signatures"][USER]


def test_signatures_upload_refuses_foreign_device() -> None:
    seeds = CrossSigningSeeds.generate()
    with pytest.raises(CrossSigningError):
        signatures_upload_body(seeds, USER, DEVICE, device_keys(user_id="@other:counsel.test"))
    with pytest.raises(CrossSigningError):
        signatures_upload_body(seeds, USER, "OTHER", device_keys())


def test_master_key_signed_by_device() -> None:
    seeds = CrossSigningSeeds.generate()
    device_key = nacl.signing.SigningKey.generate()
    payload = master_key_signing_payload(seeds, USER)
    signature = encode_unpadded(device_key.sign(payload).signature)
    signed = master_key_signed_by_device(seeds, USER, DEVICE, signature)
    verify(signed, USER, f"ed25519:{DEVICE}", encode_unpadded(bytes(device_key.verify_key)))
    assert signed["usage"] == ["master"]
