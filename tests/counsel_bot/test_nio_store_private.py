"""nio's store database (bot/nio/<user>_<device>.db) lists every account the bot shares a
room with (a youth's user id beside each device key), the encrypted rooms and the sync
position, and holds the pickled Olm account and Megolm sessions. Like counsel's own database
it must be readable by the service's user only, whatever the umask; before, nio created it
with the umask's mode (0644 under the usual 022)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from nio import AsyncClient
from nio.crypto import InboundGroupSession, OlmDevice, OutboundGroupSession, TrustState
from nio.store import SqliteStore

from counsel_bot.channels.matrix.session import client_config
from e2e.vault import KdfParams, Vault

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir() if p.is_file()}


async def test_the_nio_store_is_private_to_the_service_user(
    tmp_path: Path, open_umask: None
) -> None:
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store_dir = tmp_path / "nio"
    store_dir.mkdir(mode=0o700)
    client = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                         config=client_config(vault))
    try:
        client.restore_login("@bot:x", "BOTDEVICE", "token")  # opens (creates) the store
        modes = _modes(store_dir)
        assert modes, "nio created no store file"
        assert all(mode == 0o600 for mode in modes.values()), modes
    finally:
        await client.close()


async def test_a_store_left_readable_by_an_older_version_is_made_private(
    tmp_path: Path, open_umask: None
) -> None:
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store_dir = tmp_path / "nio"
    store_dir.mkdir(mode=0o700)
    first = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    first.restore_login("@bot:x", "BOTDEVICE", "token")
    await first.close()
    for path in store_dir.iterdir():
        path.chmod(0o644)

    again = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    try:
        again.restore_login("@bot:x", "BOTDEVICE", "token")
        assert all(mode == 0o600 for mode in _modes(store_dir).values())
    finally:
        await again.close()


async def test_room_keys_come_back_with_their_forwarding_chains(tmp_path: Path) -> None:
    """The store reads the device's Megolm sessions in two queries, not one per session;
    a key forwarded to the bot keeps the chain of devices it came through."""
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store_dir = tmp_path / "nio"
    store_dir.mkdir(mode=0o700)
    first = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    first.restore_login("@bot:x", "BOTDEVICE", "token")
    key = first.olm.account.identity_keys["ed25519"]
    direct = InboundGroupSession(OutboundGroupSession().session_key, key, "youth", "!a:x")
    forwarded = InboundGroupSession(OutboundGroupSession().session_key, key, "youth", "!b:x",
                                    forwarding_chain=["laptop", "phone"])
    first.store.save_inbound_group_session(direct)
    first.store.save_inbound_group_session(forwarded)
    await first.close()
    again = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    try:
        again.restore_login("@bot:x", "BOTDEVICE", "token")
        store = again.olm.inbound_group_store
        assert store.get("!a:x", "youth", direct.id).forwarding_chain == []
        assert sorted(store.get("!b:x", "youth", forwarded.id).forwarding_chain) == [
            "laptop", "phone"]
    finally:
        await again.close()


async def test_devices_come_back_with_their_keys_and_trust(tmp_path: Path) -> None:
    """The store reads the devices the bot met in three queries, not two more per device;
    each keeps its keys, whether it was deleted and how far it is trusted (not its name,
    which the store never keeps: test_device_names_at_rest)."""
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store_dir = tmp_path / "nio"
    store_dir.mkdir(mode=0o700)
    first = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    first.restore_login("@bot:x", "BOTDEVICE", "token")
    phone = OlmDevice("@youth:x", "PHONE", {"ed25519": "e-phone", "curve25519": "c-phone"},
                      display_name="Handy")
    laptop = OlmDevice("@youth:x", "LAPTOP", {"ed25519": "e-laptop", "curve25519": "c-laptop"},
                       deleted=True)
    staff = OlmDevice("@staff:x", "DESK", {"ed25519": "e-desk", "curve25519": "c-desk"})
    first.store.save_device_keys({"@youth:x": {"PHONE": phone, "LAPTOP": laptop},
                                  "@staff:x": {"DESK": staff}})
    first.store.verify_device(staff)
    first.store.blacklist_device(laptop)
    await first.close()
    again = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    try:
        again.restore_login("@bot:x", "BOTDEVICE", "token")
        devices = again.olm.device_store
        assert sorted(devices.users) == ["@staff:x", "@youth:x"]
        got = devices["@youth:x"]["PHONE"]
        assert (got.ed25519, got.curve25519, got.display_name, got.deleted) == (
            "e-phone", "c-phone", "", False)
        assert got.trust_state == TrustState.unset
        assert devices["@youth:x"]["LAPTOP"].deleted
        assert devices["@youth:x"]["LAPTOP"].trust_state == TrustState.blacklisted
        assert devices["@staff:x"]["DESK"].trust_state == TrustState.verified
    finally:
        await again.close()


async def test_a_device_name_an_older_version_kept_is_forgotten_at_the_next_start(
    tmp_path: Path,
) -> None:
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store_dir = tmp_path / "nio"
    store_dir.mkdir(mode=0o700)
    first = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    first.restore_login("@bot:x", "BOTDEVICE", "token")
    phone = OlmDevice("@youth:x", "PHONE", {"ed25519": "e-phone", "curve25519": "c-phone"},
                      display_name="Kims iPhone")
    SqliteStore.save_device_keys(first.store, {"@youth:x": {"PHONE": phone}})  # as nio did
    await first.close()
    assert any(b"Kims iPhone" in p.read_bytes() for p in store_dir.iterdir() if p.is_file())
    again = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(store_dir),
                        config=client_config(vault))
    try:
        again.restore_login("@bot:x", "BOTDEVICE", "token")
        assert again.olm.device_store["@youth:x"]["PHONE"].ed25519 == "e-phone"
    finally:
        await again.close()
    assert not [p.name for p in store_dir.iterdir()
                if p.is_file() and b"Kims iPhone" in p.read_bytes()]
