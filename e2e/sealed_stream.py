"""A passphrase-sealed byte stream, for backups of the data directory.

The key comes from the passphrase by argon2id (the vault's `KdfParams`, a fresh salt per
stream); the stream is libsodium's secretstream (XChaCha20-Poly1305) in chunks, so a
backup of any size is sealed without holding it in memory, and every chunk is
authenticated in order: a reordered, altered, or cut-short stream is refused, not read as
less. The header (format, KDF cost, salt) is bound to the first chunk as associated data.

Layout: MAGIC, a length-prefixed JSON header, the secretstream header, then chunks, each a
4-byte big-endian length and that many sealed bytes; the last chunk carries TAG_FINAL and
nothing may follow it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
from typing import BinaryIO

import nacl.bindings as sodium
import nacl.exceptions

from e2e.errors import VaultError
from e2e.vault import KdfParams

MAGIC = b"counsel-backup\x00\x01"
CHUNK = 64 * 1024
_SALT_BYTES = 16
_LENGTH = struct.Struct(">I")
_MAX_HEADER = 1024
# The most a header may ask the restore to spend before anything is authenticated: the
# header is bound to the first chunk, but only a key derived as it says can check that, so
# a file swapped in on the backups' disk could make the restore (beside the running service)
# allocate 4 GiB or run for an hour (the vault's own bounds). Ours write 64 MiB, t=3.
_MOST_MEMORY_KIB = 1024 * 1024
_MOST_TIME_COST = 16
_ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE


class SealedStreamError(VaultError):
    """A sealed stream that cannot be opened: not one of ours, the wrong passphrase, or
    damaged. Nothing read from it may be used."""


class SealingWriter(io.RawIOBase):
    """Seals what is written into ``sink``; ``close()`` writes the final chunk (without it
    the stream is refused as cut short)."""

    def __init__(self, sink: BinaryIO, passphrase: str, params: KdfParams | None = None) -> None:
        super().__init__()
        params = params or KdfParams()
        salt = os.urandom(_SALT_BYTES)
        key = params.derive(passphrase, salt)
        header = json.dumps({"kdf": {"time_cost": params.time_cost,
                                     "memory_kib": params.memory_kib,
                                     "parallelism": params.parallelism},
                             "salt": base64.b64encode(salt).decode("ascii")},
                            sort_keys=True).encode("ascii")
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self._sink = sink
        self._ad: bytes | None = MAGIC + header
        sink.write(MAGIC + _LENGTH.pack(len(header)) + header + stream_header)
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._push(bytes(self._buffer[:CHUNK]), _MESSAGE)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._push(bytes(self._buffer), _FINAL)
            self._buffer.clear()
            self._sink.flush()
        super().close()

    def _push(self, plain: bytes, tag: int) -> None:
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, plain, self._ad, tag)
        self._ad = None
        self._sink.write(_LENGTH.pack(len(sealed)) + sealed)


class OpeningReader(io.RawIOBase):
    """Reads what a `SealingWriter` sealed. Raises `SealedStreamError` at the first chunk
    that does not open, and at the end of ``source`` unless the final chunk came."""

    def __init__(self, source: BinaryIO, passphrase: str, name: str = "the backup") -> None:
        super().__init__()
        self._source, self._name = source, name
        start = source.read(len(MAGIC))
        if start != MAGIC:
            if MAGIC.startswith(start):
                raise SealedStreamError(f"{name} is cut short (its start is missing)")
            raise SealedStreamError(f"{name} is not a counsel backup (or of a newer format)")
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size, "its header"))
        if length > _MAX_HEADER:
            raise SealedStreamError(f"{name} has a damaged header")
        header = self._exactly(length, "its header")
        try:
            fields = json.loads(header)
            params = KdfParams(**fields["kdf"])
            salt = base64.b64decode(fields["salt"], validate=True)
        except (ValueError, KeyError, TypeError, VaultError):
            raise SealedStreamError(f"{name} has a damaged header") from None
        costs = (params.time_cost, params.memory_kib, params.parallelism)
        if any(type(cost) is not int for cost in costs) or len(salt) != _SALT_BYTES \
                or params.memory_kib > _MOST_MEMORY_KIB or params.time_cost > _MOST_TIME_COST:
            raise SealedStreamError(f"{name} has a damaged header (it asks for a key "
                                    "derivation no backup of ours uses); use another backup")
        key = params.derive(passphrase, salt)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(
            self._state, self._exactly(sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES,
                                       "its header"), key)
        self._ad: bytes | None = MAGIC + header
        self._plain = b""
        self._done = False
        self._chunks = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._plain and not self._done:
            self._pull()
        size = min(len(buffer), len(self._plain))
        buffer[:size] = self._plain[:size]
        self._plain = self._plain[size:]
        return size

    def verify_end(self) -> None:
        """Read to the final chunk; raise unless the stream ends right there."""
        while not self._done:
            self._pull()
            self._plain = b""
        if self._source.read(1):
            raise SealedStreamError(f"{self._name} has data after its end: it was altered")

    def _pull(self) -> None:
        head = self._source.read(_LENGTH.size)
        if not head:
            raise SealedStreamError(f"{self._name} is cut short (its end is missing): copy "
                                    "it again, or use an older one")
        if len(head) < _LENGTH.size:
            raise SealedStreamError(f"{self._name} is cut short")
        (length,) = _LENGTH.unpack(head)
        if not _ABYTES <= length <= CHUNK + _ABYTES:
            raise SealedStreamError(f"{self._name} is damaged")
        sealed = self._exactly(length, "a chunk")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                self._state, sealed, self._ad)
        except nacl.exceptions.CryptoError:
            if self._chunks == 0:
                raise SealedStreamError(
                    f"{self._name} does not open with this passphrase (or it was altered); "
                    "give the passphrase it was made with") from None
            raise SealedStreamError(f"{self._name} is damaged after {self._chunks} "
                                    "chunks; use another backup") from None
        self._ad = None
        self._chunks += 1
        self._plain = plain
        self._done = tag == _FINAL

    def _exactly(self, size: int, what: str) -> bytes:
        data = self._source.read(size)
        if len(data) != size:
            raise SealedStreamError(f"{self._name} is cut short ({what} is missing)")
        return data
