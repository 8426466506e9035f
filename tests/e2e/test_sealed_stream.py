"""The sealed stream backups are written in: what was sealed comes back whole or not at
all (a wrong passphrase, a cut, an altered, reordered or extended stream is refused)."""

from __future__ import annotations

import base64
import io
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2e.sealed_stream import CHUNK, MAGIC, OpeningReader, SealedStreamError, SealingWriter
from e2e.vault import KdfParams

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PASS = "correct horse battery staple"


def seal(plain: bytes, *, pieces: int = 1) -> bytes:
    sink = io.BytesIO()
    writer = SealingWriter(sink, PASS, CHEAP)
    step = max(1, len(plain) // pieces)
    for start in range(0, len(plain), step):
        writer.write(plain[start:start + step])
    writer.close()
    return sink.getvalue()


def open_all(sealed: bytes, passphrase: str = PASS) -> bytes:
    reader = OpeningReader(io.BytesIO(sealed), passphrase)
    plain = reader.read()
    reader.verify_end()
    return plain


def chunk_offsets(sealed: bytes) -> list[int]:
    """Where each sealed chunk's length prefix starts."""
    (length,) = struct.unpack(">I", sealed[len(MAGIC):len(MAGIC) + 4])
    at = len(MAGIC) + 4 + length + 24
    offsets = []
    while at < len(sealed):
        offsets.append(at)
        (size,) = struct.unpack(">I", sealed[at:at + 4])
        at += 4 + size
    return offsets


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3 * CHUNK + 7), st.integers(1, 9))
def test_what_was_sealed_comes_back(plain: bytes, pieces: int) -> None:
    assert open_all(seal(plain, pieces=pieces)) == plain


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK])
def test_chunk_edges(size: int) -> None:
    plain = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    assert open_all(seal(plain)) == plain


def test_the_plaintext_is_nowhere_in_the_sealed_bytes() -> None:
    canary = b"CANARY-ich-will-nicht-mehr-leben"
    assert canary not in seal(canary * 5000)


def test_a_wrong_passphrase_is_refused_as_such() -> None:
    with pytest.raises(SealedStreamError, match="does not open with this passphrase"):
        open_all(seal(b"x" * 10), "wrong")


def test_a_stream_cut_anywhere_is_refused() -> None:
    sealed = seal(b"y" * (3 * CHUNK))
    for cut in [*chunk_offsets(sealed), len(sealed) - 1, len(MAGIC) + 2, 3]:
        with pytest.raises(SealedStreamError):
            open_all(sealed[:cut])


def test_an_altered_byte_anywhere_is_refused() -> None:
    sealed = seal(b"z" * (2 * CHUNK + 5))
    for at in range(0, len(sealed), 4099):
        altered = bytearray(sealed)
        altered[at] ^= 0x01
        with pytest.raises(SealedStreamError):
            open_all(bytes(altered))


def test_swapped_chunks_and_data_after_the_end_are_refused() -> None:
    sealed = seal(b"a" * CHUNK + b"b" * CHUNK + b"c")
    first, second, third = chunk_offsets(sealed)
    swapped = sealed[:first] + sealed[second:third] + sealed[first:second] + sealed[third:]
    with pytest.raises(SealedStreamError):
        open_all(swapped)
    with pytest.raises(SealedStreamError, match="after its end"):
        open_all(sealed + b"\x00")


def test_cheaper_key_derivation_written_into_the_header_is_refused() -> None:
    """The header is bound to the first chunk: an attacker cannot lower the cost it names
    (to make guessing the passphrase cheap) without the stream failing to open."""
    sealed = seal(b"secret")
    lowered = sealed.replace(b'"time_cost": 1', b'"time_cost": 2')
    assert lowered != sealed
    with pytest.raises(SealedStreamError):
        open_all(lowered)


def test_not_a_backup_says_so() -> None:
    with pytest.raises(SealedStreamError, match="not a counsel backup"):
        open_all(b"PK\x03\x04 a zip file")


def forged(kdf: dict[str, object]) -> bytes:
    """A backup file whose header an attacker wrote (they need not know the passphrase)."""
    header = json.dumps({"kdf": kdf, "salt": base64.b64encode(b"s" * 16).decode()}).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + b"\x00" * 24 + b"\x00" * 40


@pytest.mark.parametrize("kdf", [
    {"time_cost": 1, "memory_kib": 4 * 1024 * 1024, "parallelism": 1},  # 4 GiB
    {"time_cost": 64, "memory_kib": 64 * 1024, "parallelism": 1},       # minutes
    {"time_cost": 2.5, "memory_kib": 64 * 1024, "parallelism": 1},
    {"time_cost": True, "memory_kib": 64 * 1024, "parallelism": 1},
])
def test_a_header_that_asks_for_a_costly_key_derivation_is_refused_before_it(
    monkeypatch: pytest.MonkeyPatch, kdf: dict[str, object],
) -> None:
    """A file swapped in on the backups' disk, set to make the restore (beside the running
    service, on the day the admin needs it) allocate gigabytes or run for an hour: refused
    before the derivation starts. No writer of ours asks for anything near it."""
    def derive(params: KdfParams, passphrase: str, salt: bytes) -> bytes:
        raise AssertionError(f"derived with {params}")
    monkeypatch.setattr(KdfParams, "derive", derive)
    with pytest.raises(SealedStreamError, match="damaged header"):
        open_all(forged(kdf))


@pytest.mark.parametrize("salt", [b"", b"short", b"s" * 200])
def test_a_header_with_a_salt_not_ours_is_refused_as_damaged(
    monkeypatch: pytest.MonkeyPatch, salt: bytes,
) -> None:
    """argon2 refuses a salt under 8 bytes with an error of its own: the restore ended as
    "internal error ... a bug", not as a damaged file."""
    def derive(params: KdfParams, passphrase: str, salt: bytes) -> bytes:
        raise AssertionError(f"derived with a salt of {len(salt)} bytes")
    monkeypatch.setattr(KdfParams, "derive", derive)
    header = json.dumps({"kdf": {"time_cost": 1, "memory_kib": 8, "parallelism": 1},
                         "salt": base64.b64encode(salt).decode()}).encode()
    forged_stream = MAGIC + struct.pack(">I", len(header)) + header + b"\x00" * 64
    with pytest.raises(SealedStreamError, match="damaged header"):
        open_all(forged_stream)
