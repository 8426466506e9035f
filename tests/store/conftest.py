"""Store fixtures: a real AEAD sealer and both store implementations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import nacl.bindings as aead
import nacl.utils
import pytest
import pytest_asyncio

from counsel_bot.store import MemoryStore, SqliteStore, Store
from counsel_bot.store.postgres import PostgresStore

_NONCE = aead.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class AeadSealer:
    """XChaCha20-Poly1305 with the context as associated data (libsodium via PyNaCl)."""

    def __init__(self) -> None:
        self._key = nacl.utils.random(aead.crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
        self.sealed = 0

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        self.sealed += 1
        nonce = nacl.utils.random(_NONCE)
        box = aead.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, context, nonce, self._key)
        return nonce + box

    def open_sealed(self, sealed: bytes, *, context: bytes) -> bytes:
        nonce, box = sealed[:_NONCE], sealed[_NONCE:]
        return aead.crypto_aead_xchacha20poly1305_ietf_decrypt(box, context, nonce, self._key)


@pytest.fixture
def sealer() -> AeadSealer:
    return AeadSealer()


@pytest_asyncio.fixture(params=["memory", "sqlite", "postgres"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, sealer: AeadSealer
) -> AsyncIterator[Store]:
    if request.param == "memory":
        opened: Store = MemoryStore(sealer)
    elif request.param == "sqlite":
        opened = await SqliteStore.open(tmp_path / "counsel.sqlite3", sealer)
    else:
        # Asked for only here, so memory and SQLite runs never start a cluster.
        server = request.getfixturevalue("postgres")
        opened = await PostgresStore.open(server.new_database(), sealer)
    yield opened
    await opened.close()
