"""The at-rest vault: round trip, wrong passphrase, rotation, tampering, file modes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2e.errors import (
    TamperedCiphertext,
    UnknownDataKey,
    UnsupportedFormat,
    VaultCorrupt,
    VaultError,
    VaultExists,
    VaultMissing,
    WrongPassphrase,
)
from e2e.vault import KdfParams, Vault, key_id_of

# Tests need no brute-force resistance; the minimum argon2id cost keeps them fast.
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PASS = "correct horse battery staple"
CTX = b"intake.text:42"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "vault.json"


@pytest.fixture
def vault(path: Path) -> Vault:
    return Vault.create(path, PASS, CHEAP)


@pytest.fixture(scope="module")
def shared_vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    # Module-scoped so hypothesis can reuse it; tests using it never rotate or rewrap.
    return Vault.create(tmp_path_factory.mktemp("vault") / "vault.json", PASS, CHEAP)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(directory.iterdir())
    }


# -- round trip ---------------------------------------------------------------------------


def test_round_trip_in_memory_and_after_reopen(vault: Vault, path: Path) -> None:
    blob = vault.seal(b"hello \x00 world", context=CTX)
    assert vault.open_sealed(blob, context=CTX) == b"hello \x00 world"
    reopened = Vault.open(path, PASS)
    assert reopened.open_sealed(blob, context=CTX) == b"hello \x00 world"


def test_text_round_trip(vault: Vault) -> None:
    blob = vault.seal_text("Grüße, 日本語 🙂", context=CTX)
    assert vault.open_text(blob, context=CTX) == "Grüße, 日本語 🙂"


def test_plaintext_not_in_blob_and_nonce_fresh(vault: Vault) -> None:
    a = vault.seal(b"canary-7f3a", context=CTX)
    b = vault.seal(b"canary-7f3a", context=CTX)
    assert a != b
    assert b"canary-7f3a" not in a
    assert len(a) == 1 + 4 + 24 + len(b"canary-7f3a") + 16


def test_blob_format_header(vault: Vault) -> None:
    blob = vault.seal(b"x", context=CTX)
    assert blob[0] == 1
    assert key_id_of(blob) == 1 == vault.newest_key_id


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=2048), context=st.binary(max_size=64))
def test_property_round_trip(shared_vault: Vault, plaintext: bytes, context: bytes) -> None:
    blob = shared_vault.seal(plaintext, context=context)
    assert shared_vault.open_sealed(blob, context=context) == plaintext


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300), other=st.binary(min_size=1, max_size=16))
def test_property_other_context_refused(shared_vault: Vault, text: str, other: bytes) -> None:
    blob = shared_vault.seal_text(text, context=CTX)
    assert shared_vault.open_text(blob, context=CTX) == text
    with pytest.raises(TamperedCiphertext):
        shared_vault.open_text(blob, context=CTX + other)


def test_open_or_create(path: Path) -> None:
    created = Vault.open_or_create(path, PASS, CHEAP)
    blob = created.seal(b"v", context=CTX)
    opened = Vault.open_or_create(path, PASS, CHEAP)
    assert opened.open_sealed(blob, context=CTX) == b"v"
    with pytest.raises(WrongPassphrase):
        Vault.open_or_create(path, "wrong", CHEAP)


def test_default_params_are_recorded_in_file(path: Path) -> None:
    Vault.create(path, PASS)
    kdf = json.loads(path.read_text())["kdf"]
    assert kdf["algorithm"] == "argon2id"
    assert (kdf["time_cost"], kdf["memory_kib"], kdf["parallelism"]) == (3, 65536, 1)
    assert Vault.open(path, PASS).params == KdfParams()


def test_file_holds_no_key_material_in_clear(vault: Vault, path: Path) -> None:
    text = path.read_text()
    assert "data_keys" not in text
    assert "derive_root" not in text


# -- wrong passphrase, missing, corrupt ----------------------------------------------------


def test_wrong_passphrase_raises_and_writes_nothing(vault: Vault, path: Path) -> None:
    os.chmod(path, 0o640)  # a later successful open would tighten this: prove none happened
    before = snapshot(path.parent)
    with pytest.raises(WrongPassphrase) as caught:
        Vault.open(path, "not the passphrase")
    assert snapshot(path.parent) == before
    message = str(caught.value)
    assert "COUNSEL_VAULT_PASSPHRASE" in message
    assert "not the passphrase" not in message
    assert PASS not in message


def test_open_missing(tmp_path: Path) -> None:
    with pytest.raises(VaultMissing):
        Vault.open(tmp_path / "nope.json", PASS)


def test_create_refuses_to_overwrite(vault: Vault, path: Path) -> None:
    before = path.read_bytes()
    with pytest.raises(VaultExists):
        Vault.create(path, "other", CHEAP)
    assert path.read_bytes() == before


def test_create_needs_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="does not exist"):
        Vault.create(tmp_path / "missing" / "vault.json", PASS, CHEAP)


def test_empty_passphrase_refused(path: Path) -> None:
    with pytest.raises(VaultError, match="empty"):
        Vault.create(path, "", CHEAP)
    assert not path.exists()


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"format": "other"}'])
def test_corrupt_file(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with pytest.raises(VaultCorrupt):
        Vault.open(path, PASS)


def test_newer_format_version(vault: Vault, path: Path) -> None:
    doc = json.loads(path.read_text())
    doc["version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(UnsupportedFormat, match="upgrade counsel"):
        Vault.open(path, PASS)


def test_doctored_kdf_params_are_bounded(vault: Vault, path: Path) -> None:
    doc = json.loads(path.read_text())
    doc["kdf"]["memory_kib"] = 2**40
    path.write_text(json.dumps(doc))
    with pytest.raises(VaultCorrupt):
        Vault.open(path, PASS)


@pytest.mark.parametrize("field", ["salt", "time_cost"])
def test_altered_header_fails_like_a_wrong_passphrase(vault: Vault, path: Path, field: str) -> None:
    doc = json.loads(path.read_text())
    doc["kdf"][field] = "AAAAAAAAAAAAAAAAAAAAAA" if field == "salt" else 2
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        Vault.open(path, PASS)


def test_altered_keyring_box_detected(vault: Vault, path: Path) -> None:
    doc = json.loads(path.read_text())
    box = doc["keyring"]["box"]
    doc["keyring"]["box"] = ("B" if box[0] == "A" else "A") + box[1:]
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        Vault.open(path, PASS)


# -- tampering ----------------------------------------------------------------------------


def test_every_single_byte_flip_is_detected(vault: Vault) -> None:
    blob = vault.seal(b"a note about a session", context=CTX)
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            altered = bytearray(blob)
            altered[i] ^= bit
            with pytest.raises(TamperedCiphertext):
                vault.open_sealed(bytes(altered), context=CTX)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_property_any_flip_detected(shared_vault: Vault, data: st.DataObject) -> None:
    blob = shared_vault.seal(data.draw(st.binary(max_size=200)), context=CTX)
    index = data.draw(st.integers(0, len(blob) - 1))
    mask = data.draw(st.integers(1, 255))
    altered = bytearray(blob)
    altered[index] ^= mask
    with pytest.raises(TamperedCiphertext):
        shared_vault.open_sealed(bytes(altered), context=CTX)


def test_truncation_and_extension_detected(vault: Vault) -> None:
    blob = vault.seal(b"some text", context=CTX)
    for cut in (0, 1, 5, 29, 44, len(blob) - 1):
        with pytest.raises(TamperedCiphertext):
            vault.open_sealed(blob[:cut], context=CTX)
    with pytest.raises(TamperedCiphertext):
        vault.open_sealed(blob + b"\x00", context=CTX)


def test_wrong_context_detected(vault: Vault) -> None:
    blob = vault.seal(b"nickname", context=b"youth.nickname:1")
    with pytest.raises(TamperedCiphertext):
        vault.open_sealed(blob, context=b"youth.nickname:2")
    with pytest.raises(TamperedCiphertext):
        vault.open_sealed(blob, context=b"")


def test_blob_from_another_vault_refused(vault: Vault, tmp_path: Path) -> None:
    other = Vault.create(tmp_path / "other.json", PASS, CHEAP)
    blob = other.seal(b"x", context=CTX)
    with pytest.raises(TamperedCiphertext):
        vault.open_sealed(blob, context=CTX)


def test_error_messages_carry_no_plaintext(vault: Vault) -> None:
    blob = vault.seal(b"canary-plaintext", context=b"canary-context")
    with pytest.raises(TamperedCiphertext) as caught:
        vault.open_sealed(blob, context=b"other")
    assert "canary" not in str(caught.value)


# -- derived secrets ----------------------------------------------------------------------


def test_derive_secret_is_stable_and_separated(vault: Vault, path: Path, tmp_path: Path) -> None:
    pickle_key = vault.derive_secret("nio-pickle-key")
    assert len(pickle_key) == 32
    assert vault.derive_secret("nio-pickle-key") == pickle_key
    assert vault.derive_secret("something-else") != pickle_key
    assert len(vault.derive_secret("x", size=64)) == 64
    assert Vault.open(path, PASS).derive_secret("nio-pickle-key") == pickle_key
    other = Vault.create(tmp_path / "other.json", PASS, CHEAP)
    assert other.derive_secret("nio-pickle-key") != pickle_key


# -- rotation -----------------------------------------------------------------------------


def test_change_passphrase(vault: Vault, path: Path) -> None:
    blob = vault.seal(b"kept", context=CTX)
    secret = vault.derive_secret("nio-pickle-key")
    salt_before = json.loads(path.read_text())["kdf"]["salt"]
    vault.change_passphrase("a new passphrase")
    assert json.loads(path.read_text())["kdf"]["salt"] != salt_before
    with pytest.raises(WrongPassphrase):
        Vault.open(path, PASS)
    reopened = Vault.open(path, "a new passphrase")
    assert reopened.open_sealed(blob, context=CTX) == b"kept"
    assert reopened.derive_secret("nio-pickle-key") == secret
    assert reopened.key_ids == (1,)
    assert mode(path) == 0o600


def test_change_passphrase_can_raise_cost(vault: Vault, path: Path) -> None:
    stronger = KdfParams(time_cost=2, memory_kib=16, parallelism=1)
    vault.change_passphrase("new", stronger)
    assert Vault.open(path, "new").params == stronger


def test_data_key_rotation_reseal_and_retire(vault: Vault, path: Path) -> None:
    old = vault.seal(b"old value", context=CTX)
    secret = vault.derive_secret("nio-pickle-key")

    new_id = vault.rotate_data_key()
    assert new_id == 2
    assert list(vault.key_ids) == [1, 2]
    assert Vault.open(path, PASS).key_ids == (1, 2)  # persisted before returning
    fresh = vault.seal(b"new value", context=CTX)
    assert key_id_of(fresh) == 2
    assert vault.open_sealed(old, context=CTX) == b"old value"
    assert vault.needs_reseal(old)
    assert not vault.needs_reseal(fresh)

    resealed = vault.reseal(old, context=CTX)
    assert key_id_of(resealed) == 2
    assert vault.open_sealed(resealed, context=CTX) == b"old value"
    with pytest.raises(TamperedCiphertext):
        vault.reseal(old, context=b"another context")

    assert vault.retire_keys_except_newest() == (1,)
    assert list(vault.key_ids) == [2]
    with pytest.raises(UnknownDataKey) as caught:
        vault.open_sealed(old, context=CTX)
    assert isinstance(caught.value, TamperedCiphertext)
    reopened = Vault.open(path, PASS)
    assert reopened.key_ids == (2,)
    assert reopened.open_sealed(resealed, context=CTX) == b"old value"
    assert reopened.derive_secret("nio-pickle-key") == secret
    assert vault.retire_keys_except_newest() == ()


def test_failed_write_keeps_old_file_and_memory(
    vault: Vault, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = path.read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        vault.rotate_data_key()
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert vault.key_ids == (1,)
    assert [p.name for p in path.parent.iterdir()] == ["vault.json"]  # no temp file left


# -- file modes ---------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
def test_file_mode_0600_even_with_umask_0(path: Path) -> None:
    vault = Vault.create(path, PASS, CHEAP)
    assert mode(path) == 0o600
    vault.rotate_data_key()
    assert mode(path) == 0o600
    vault.change_passphrase("other")
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["vault.json"]


def test_open_tightens_a_loose_mode(vault: Vault, path: Path) -> None:
    os.chmod(path, 0o644)
    Vault.open(path, PASS)
    assert mode(path) == 0o600


# -- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "parallelism"),
    [(0, 8, 1), (1, 7, 1), (1, 8, 2), (1, 8, 0), (65, 1024, 1), (1, 2**23, 1)],
)
def test_kdf_params_validated(time_cost: int, memory_kib: int, parallelism: int) -> None:
    with pytest.raises(VaultError):
        KdfParams(time_cost=time_cost, memory_kib=memory_kib, parallelism=parallelism)


def test_repr_hides_keys(vault: Vault) -> None:
    assert "key_ids=(1,)" in repr(vault)
    root = vault.derive_secret("x")
    assert root.hex() not in repr(vault)
