"""The at-rest vault: envelope encryption of every sensitive value the bot stores.

Layout. A passphrase goes through argon2id to a key-encryption key (KEK). The KEK wraps the
keyring: numbered 32-byte data keys (the newest seals new values) and one derivation root for
``derive_secret``. Only the wrapped keyring, the argon2 parameters and the salt live in the
vault file, so changing the passphrase rewraps 100-odd bytes and touches no sealed value.

Cipher choice. Values are sealed with libsodium's XChaCha20-Poly1305 (IETF AEAD) through
PyNaCl's bindings rather than ``SecretBox``: it is the same family (XSalsa20-Poly1305's
sibling, 24-byte random nonces that are safe to pick at random), but it authenticates
associated data. That lets one key bind both the blob header (format version, key id) and the
caller's ``context`` (which table, column, row) without a subkey per context, so a value
copied into another row or another column fails to open instead of decrypting quietly.

Sealed blob, format version 1::

    version (1 byte = 0x01) | key id (4 bytes, big-endian) | nonce (24 bytes) | ciphertext+tag

associated data = version | key id | context.

One process owns a vault at a time (like the nio store); the vault object is not shared
between processes. Opening runs argon2id (~0.1-0.3 s with the defaults): asyncio callers
should do it in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import argon2.low_level
import nacl.bindings
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.utils

from e2e.atomic_file import SECRET_FILE_MODE, create_exclusively, write_atomically
from e2e.canonical_json import canonical_json, decode_unpadded, encode_unpadded
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
from e2e.passphrase import normalise
from e2e.passphrase import passphrase_from_env_or_file as passphrase_from_env_or_file

__all__ = ["KdfParams", "Vault", "key_id_of", "passphrase_from_env_or_file"]

logger = logging.getLogger(__name__)

VAULT_FORMAT = "counsel-vault"
VAULT_VERSION = 1
BLOB_VERSION = 1

KEY_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
KEY_ID_BYTES = 4
HEADER_BYTES = 1 + KEY_ID_BYTES
SALT_BYTES = 16
# libsodium's BLAKE2b personalisation is exactly 16 bytes: domain-separates our subkeys.
_DERIVE_PERSON = b"counsel.vault.kd"


@dataclass(frozen=True)
class KdfParams:
    """argon2id cost. Defaults follow RFC 9106's second recommendation (64 MiB, t=3)."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1

    def __post_init__(self) -> None:
        # Bounds also stop a doctored vault file from making start-up allocate gigabytes.
        if not 1 <= self.parallelism <= 16:
            raise VaultError("argon2 parallelism must be between 1 and 16")
        if not 8 * self.parallelism <= self.memory_kib <= 4 * 1024 * 1024:
            raise VaultError("argon2 memory must be between 8 KiB per lane and 4 GiB")
        if not 1 <= self.time_cost <= 64:
            raise VaultError("argon2 time cost must be between 1 and 64")

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        return argon2.low_level.hash_secret_raw(
            secret=normalise(passphrase).encode("utf-8"),
            salt=salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=KEY_BYTES,
            type=argon2.low_level.Type.ID,
            version=argon2.low_level.ARGON2_VERSION,
        )


@dataclass(frozen=True)
class _Keyring:
    data_keys: dict[int, bytes] = field(repr=False)
    # Never rotated with the data keys: rotating it would change every derived secret,
    # e.g. the nio store's pickle key, and lock the bot out of its own Olm account.
    derive_root: bytes = field(repr=False)

    @property
    def newest(self) -> int:
        return max(self.data_keys)

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "data_keys": {str(i): encode_unpadded(k) for i, k in self.data_keys.items()},
                "derive_root": encode_unpadded(self.derive_root),
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        doc = json.loads(raw)
        keys = {int(i): decode_unpadded(k) for i, k in doc["data_keys"].items()}
        root = decode_unpadded(doc["derive_root"])
        if not keys or any(len(k) != KEY_BYTES for k in keys.values()) or len(root) != KEY_BYTES:
            raise ValueError("keyring has wrong key sizes")
        return cls(keys, root)


@dataclass(frozen=True)
class _Header:
    params: KdfParams
    salt: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "format": VAULT_FORMAT,
            "version": VAULT_VERSION,
            "kdf": {
                "algorithm": "argon2id",
                "argon2_version": argon2.low_level.ARGON2_VERSION,
                "time_cost": self.params.time_cost,
                "memory_kib": self.params.memory_kib,
                "parallelism": self.params.parallelism,
                "salt": encode_unpadded(self.salt),
            },
        }

    def associated_data(self) -> bytes:
        # Binds format, version and KDF settings to the wrapped keyring.
        return canonical_json(self.to_json())


class Vault:
    """An unlocked vault. Build with ``create``, ``open`` or ``open_or_create``."""

    def __init__(self, path: Path, header: _Header, kek: bytes, keyring: _Keyring) -> None:
        self._path = path
        self._header = header
        self._kek = kek
        self._keyring = keyring

    def __repr__(self) -> str:
        return f"Vault({str(self._path)!r}, key_ids={self.key_ids})"

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, passphrase: str, params: KdfParams | None = None) -> Vault:
        """Create a new vault at ``path`` with one data key. Never overwrites a vault."""
        _require_passphrase(passphrase)
        if not path.parent.is_dir():
            raise VaultError(
                f"the directory {path.parent} does not exist; create it (mode 0700) first"
            )
        header = _Header(params or KdfParams(), nacl.utils.random(SALT_BYTES))
        keyring = _Keyring({1: nacl.utils.random(KEY_BYTES)}, nacl.utils.random(KEY_BYTES))
        kek = header.params.derive(passphrase, header.salt)
        try:
            create_exclusively(path, _encode_file(header, kek, keyring))
        except FileExistsError:
            raise VaultExists(path) from None
        return cls(path, header, kek, keyring)

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Vault:
        """Unlock the vault; a wrong passphrase raises ``WrongPassphrase`` and writes nothing."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise VaultMissing(path) from None
        header, nonce, box = _decode_file(path, raw)
        kek = header.params.derive(passphrase, header.salt)
        try:
            plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                box, header.associated_data(), nonce, kek
            )
        except nacl.exceptions.CryptoError:
            raise WrongPassphrase(path) from None
        try:
            keyring = _Keyring.from_bytes(plain)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise VaultCorrupt(path, "the keyring inside is malformed") from None
        _tighten_mode(path)
        return cls(path, header, kek, keyring)

    @classmethod
    def open_or_create(cls, path: Path, passphrase: str, params: KdfParams | None = None) -> Vault:
        """Open the vault at ``path``, creating it (with ``params``) on first start."""
        if path.exists():
            return cls.open(path, passphrase)
        try:
            return cls.create(path, passphrase, params)
        except VaultExists:
            # Lost a race with another starter: the vault is there now, so open it.
            return cls.open(path, passphrase)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def params(self) -> KdfParams:
        return self._header.params

    @property
    def key_ids(self) -> tuple[int, ...]:
        return tuple(sorted(self._keyring.data_keys))

    @property
    def newest_key_id(self) -> int:
        return self._keyring.newest

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt under the newest data key, bound to ``context`` (e.g. b"notes.body:42")."""
        key_id = self._keyring.newest
        header = bytes([BLOB_VERSION]) + key_id.to_bytes(KEY_ID_BYTES, "big")
        nonce = nacl.utils.random(NONCE_BYTES)
        box = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, header + context, nonce, self._keyring.data_keys[key_id]
        )
        return header + nonce + box

    def open_sealed(self, blob: bytes, *, context: bytes) -> bytes:
        """Decrypt a value from ``seal``; any alteration or a wrong context raises
        ``TamperedCiphertext``."""
        key_id = key_id_of(blob)
        key = self._keyring.data_keys.get(key_id)
        if key is None:
            raise UnknownDataKey(key_id)
        nonce = blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        try:
            return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                blob[HEADER_BYTES + NONCE_BYTES :], blob[:HEADER_BYTES] + context, nonce, key
            )
        except nacl.exceptions.CryptoError:
            raise TamperedCiphertext() from None

    def seal_text(self, text: str, *, context: bytes) -> bytes:
        return self.seal(text.encode("utf-8"), context=context)

    def open_text(self, blob: bytes, *, context: bytes) -> str:
        return self.open_sealed(blob, context=context).decode("utf-8")

    def derive_secret(self, label: str, *, size: int = 32) -> bytes:
        """A stable subkey for ``label`` (e.g. "nio-pickle-key"), the same on every start.

        Keyed BLAKE2b from libsodium (the construction behind ``crypto_kdf``), keyed with a
        root that neither passphrase changes nor data-key rotation touch.
        """
        return nacl.hash.blake2b(
            label.encode("utf-8"),
            digest_size=size,
            key=self._keyring.derive_root,
            person=_DERIVE_PERSON,
            encoder=nacl.encoding.RawEncoder,
        )

    # -- rotation --------------------------------------------------------------------------

    def change_passphrase(self, new_passphrase: str, params: KdfParams | None = None) -> None:
        """Rewrap the keyring under a new passphrase (fresh salt); sealed values stay valid."""
        _require_passphrase(new_passphrase)
        header = _Header(params or self._header.params, nacl.utils.random(SALT_BYTES))
        kek = header.params.derive(new_passphrase, header.salt)
        write_atomically(self._path, _encode_file(header, kek, self._keyring))
        self._header, self._kek = header, kek

    def rotate_data_key(self) -> int:
        """Add a fresh data key, used for every later ``seal``; returns its id."""
        new_id = self._keyring.newest + 1
        if new_id >= 2 ** (8 * KEY_ID_BYTES):
            raise VaultError("the vault has run out of data key ids")
        keys = {**self._keyring.data_keys, new_id: nacl.utils.random(KEY_BYTES)}
        self._replace_keyring(_Keyring(keys, self._keyring.derive_root))
        return new_id

    def needs_reseal(self, blob: bytes) -> bool:
        """True if ``blob`` is sealed under an older data key than the newest."""
        return key_id_of(blob) != self._keyring.newest

    def reseal(self, blob: bytes, *, context: bytes) -> bytes:
        """Re-encrypt ``blob`` under the newest data key (same context)."""
        return self.seal(self.open_sealed(blob, context=context), context=context)

    def retire_keys_except_newest(self) -> tuple[int, ...]:
        """Forget every data key but the newest; call only after resealing everything.

        Returns the retired ids. Values still sealed under them become unreadable.
        """
        newest = self._keyring.newest
        retired = tuple(i for i in sorted(self._keyring.data_keys) if i != newest)
        if retired:
            keep = {newest: self._keyring.data_keys[newest]}
            self._replace_keyring(_Keyring(keep, self._keyring.derive_root))
        return retired

    def _replace_keyring(self, keyring: _Keyring) -> None:
        # Disk first: if the write fails, memory still matches the file.
        write_atomically(self._path, _encode_file(self._header, self._kek, keyring))
        self._keyring = keyring


def key_id_of(blob: bytes) -> int:
    """The data key id a sealed blob names (readable without decrypting)."""
    if len(blob) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
        raise TamperedCiphertext("it is too short to be a sealed value")
    if blob[0] != BLOB_VERSION:
        raise TamperedCiphertext(
            f"it has format version {blob[0]}, unknown to this release (newer counsel, or altered)"
        )
    return int.from_bytes(blob[1:HEADER_BYTES], "big")


def _require_passphrase(passphrase: str) -> None:
    if not passphrase:
        raise VaultError("the vault passphrase is empty; choose a long random one")


def _encode_file(header: _Header, kek: bytes, keyring: _Keyring) -> bytes:
    nonce = nacl.utils.random(NONCE_BYTES)
    box = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        keyring.to_bytes(), header.associated_data(), nonce, kek
    )
    doc = header.to_json()
    doc["keyring"] = {"nonce": encode_unpadded(nonce), "box": encode_unpadded(box)}
    return json.dumps(doc, indent=2, sort_keys=True).encode("utf-8") + b"\n"


def _decode_file(path: Path, raw: bytes) -> tuple[_Header, bytes, bytes]:
    try:
        doc = json.loads(raw)
        fmt, version = doc["format"], doc["version"]
    except (ValueError, KeyError, TypeError):
        raise VaultCorrupt(path, "not a counsel vault file") from None
    if fmt != VAULT_FORMAT:
        raise VaultCorrupt(path, "not a counsel vault file")
    if version != VAULT_VERSION:
        if isinstance(version, int) and version > VAULT_VERSION:
            raise UnsupportedFormat(f"the vault {path}", version)
        raise VaultCorrupt(path, "unknown format version")
    try:
        kdf = doc["kdf"]
        if kdf["algorithm"] != "argon2id" or kdf["argon2_version"] != 19:
            raise ValueError("unsupported KDF")
        params = KdfParams(
            time_cost=_int(kdf["time_cost"]),
            memory_kib=_int(kdf["memory_kib"]),
            parallelism=_int(kdf["parallelism"]),
        )
        salt = decode_unpadded(kdf["salt"])
        nonce = decode_unpadded(doc["keyring"]["nonce"])
        box = decode_unpadded(doc["keyring"]["box"])
    except (ValueError, KeyError, TypeError, VaultError):
        raise VaultCorrupt(path, "its key-derivation settings or keyring are damaged") from None
    if len(salt) != SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise VaultCorrupt(path, "its salt or nonce has the wrong size")
    return _Header(params, salt), nonce, box


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("expected an integer")
    return value


def _tighten_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("vault file was readable by other users; setting its mode to 0600")
        os.chmod(path, SECRET_FILE_MODE)
