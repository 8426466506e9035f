"""`counsel vault rotate`: a new data key (and optionally a new passphrase) for everything
the bot keeps, without losing any of it.

Order matters: the new key is added, every sealed value is re-encrypted under it, and only
then are the old keys forgotten; a crash in between leaves both keys, so nothing becomes
unreadable. A new passphrase comes last, once everything else succeeded: a rotation that
stopped leaves the vault opening with the old one. Values older versions kept vault-sealed
in the plain settings are first moved into the store's sealed settings (`legacy_settings`),
which the store re-encrypts; any other vault blob left in the plain settings stops the
rotation before a key is retired.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from dataclasses import dataclass
from pathlib import Path

from counsel_bot.channels.matrix.session import SESSION_CONTEXT
from counsel_bot.config import StoreSettings
from counsel_bot.runtime.legacy_settings import move_legacy_sealed_settings
from counsel_bot.runtime.runner import SEEDS_CONTEXT
from counsel_bot.runtime.stores import DATABASE_FILE, open_store, store_password
from counsel_bot.store import Store, StoreError
from counsel_bot.store.leadership import Leadership
from e2e.atomic_file import write_atomically
from e2e.errors import TamperedCiphertext, VaultError
from e2e.vault import Vault, key_id_of

# Sealed files beside the database, with the context each was sealed under.
SEALED_FILES = {"nio/session.sealed": SESSION_CONTEXT, "cross_signing.sealed": SEEDS_CONTEXT}


@dataclass(frozen=True)
class RotationReport:
    new_key_id: int
    resealed_values: int
    retired_key_ids: tuple[int, ...]
    passphrase_changed: bool

    def describe(self) -> str:
        changed = "; passphrase changed" if self.passphrase_changed else ""
        return (f"vault rotated: data key {self.new_key_id}, {self.resealed_values} values "
                f"re-encrypted, old keys {list(self.retired_key_ids)} retired{changed}")


async def rotate(
    bot_dir: Path, vault: Vault, new_passphrase: str | None,
    store: StoreSettings | None = None, config_dir: Path | None = None,
) -> RotationReport:
    store = store or StoreSettings()
    if not store.postgres:
        return await _rotate(bot_dir, vault, new_passphrase, store, config_dir or bot_dir)
    # No bot may act (on any machine) while the values it reads are re-encrypted: the
    # rotation takes the active role for itself, which also fences any former holder.
    leadership = Leadership(store.url, store_password(store, config_dir or bot_dir))
    try:
        term = await leadership.acquire(asyncio.Event(), wait=False)
        if term is None:
            raise VaultError("a counsel bot is active on the PostgreSQL store; stop every bot "
                             "(active and standby) before rotating the vault")
        return await _rotate_holding(leadership, term.epoch, bot_dir, vault, new_passphrase,
                                     store, config_dir or bot_dir)
    finally:
        await leadership.close()


async def _rotate_holding(
    leadership: Leadership, epoch: int, bot_dir: Path, vault: Vault,
    new_passphrase: str | None, store: StoreSettings, config_dir: Path,
) -> RotationReport:
    """Rotate while holding the active role as the active bot does: its lock session is
    pinged (a silent one is ended by the server within seconds, and a standby then took over
    in the middle of a long rotation), and the store writes only within its term."""
    lost = asyncio.Event()
    holder = asyncio.create_task(leadership.hold(lost.set))
    rotating = asyncio.create_task(_rotate(bot_dir, vault, new_passphrase, store, config_dir,
                                           epoch=epoch))
    losing = asyncio.create_task(lost.wait())
    try:
        await asyncio.wait({rotating, losing}, return_when=asyncio.FIRST_COMPLETED)
        if not rotating.done():
            rotating.cancel()
            with contextlib.suppress(asyncio.CancelledError, StoreError):
                await rotating
            raise VaultError("the rotation lost the active role (its connection to PostgreSQL "
                             "ended) before it was done; no old key was retired and the "
                             "passphrase is unchanged: check the database, then run it again")
        return rotating.result()
    finally:
        for task in (holder, losing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _rotate(
    bot_dir: Path, vault: Vault, new_passphrase: str | None, store: StoreSettings,
    config_dir: Path, *, epoch: int | None = None,
) -> RotationReport:
    new_key = vault.rotate_data_key()
    count = _reseal_files(bot_dir, vault)
    if store.postgres or (bot_dir / DATABASE_FILE).exists():
        opened = await open_store(store, bot_dir, config_dir, vault, epoch=epoch)
        try:
            # Before the reseal: moved values are sealed settings, which it re-encrypts
            # (and counts) with the rest.
            await move_legacy_sealed_settings(opened, vault)
            await _refuse_sealed_plain_settings(opened, vault)
            count += await opened.reseal_all(lambda blob, ctx: vault.reseal(blob, context=ctx))
        finally:
            await opened.close()
    retired = vault.retire_keys_except_newest()
    if new_passphrase is not None:
        # Last: a rotation that stops before this point leaves the vault opening with the
        # passphrase the bot is configured with, which is what its error lets the admin think.
        vault.change_passphrase(new_passphrase)
    return RotationReport(new_key, count, retired, new_passphrase is not None)


def _reseal_files(bot_dir: Path, vault: Vault) -> int:
    count = 0
    for name, context in SEALED_FILES.items():
        path = bot_dir / name
        if path.exists():
            # Durable (fsynced, rename included) before the old key is retired below: a
            # power cut must not bring back the file sealed under a key the vault forgot.
            write_atomically(path, vault.reseal(path.read_bytes(), context=context))
            count += 1
    leftovers = [p.name for p in bot_dir.rglob("*.sealed")
                 if str(p.relative_to(bot_dir)) not in SEALED_FILES]
    if leftovers:
        # Retiring the old key now would make these unreadable: stop with both keys kept.
        raise VaultError(f"unknown sealed files {leftovers}; nothing was retired")
    return count


async def _refuse_sealed_plain_settings(store: Store, vault: Vault) -> None:
    """A vault blob some part keeps in the plain settings (as the mail channel, groups and
    forum once did) is not re-encrypted: retiring its key would lose it. Stop first."""
    kinds = sorted({key.split(":", 1)[0] for key, value in await store.settings("")
                    if _vault_blob(value, vault)})
    if kinds:
        raise VaultError(f"plain settings of the kinds {kinds} hold values sealed by the vault, "
                         "which rotation cannot re-encrypt; nothing was retired (both keys "
                         "are kept). Keep such values as sealed settings, then rotate again")


def _vault_blob(value: str, vault: Vault) -> bool:
    try:
        return key_id_of(base64.b64decode(value, validate=True)) in vault.key_ids
    except (binascii.Error, TamperedCiphertext):
        return False
