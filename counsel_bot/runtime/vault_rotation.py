"""`counsel vault rotate`: a new data key (and optionally a new passphrase) for everything
the bot keeps, without losing any of it.

Order matters: the new key is added, every sealed value is re-encrypted under it, and only
then are the old keys forgotten; a crash in between leaves both keys, so nothing becomes
unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from counsel_bot.channels.matrix.session import SESSION_CONTEXT
from counsel_bot.runtime.runner import SEEDS_CONTEXT
from counsel_bot.store import SqliteStore
from e2e.errors import VaultError
from e2e.vault import Vault

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


async def rotate(bot_dir: Path, vault: Vault, new_passphrase: str | None) -> RotationReport:
    if new_passphrase is not None:
        vault.change_passphrase(new_passphrase)
    new_key = vault.rotate_data_key()
    count = _reseal_files(bot_dir, vault)
    database = bot_dir / "counsel.db"
    if database.exists():
        store = await SqliteStore.open(database, vault)
        try:
            count += await store.reseal_all(lambda blob, ctx: vault.reseal(blob, context=ctx))
        finally:
            await store.close()
    retired = vault.retire_keys_except_newest()
    return RotationReport(new_key, count, retired, new_passphrase is not None)


def _reseal_files(bot_dir: Path, vault: Vault) -> int:
    count = 0
    for name, context in SEALED_FILES.items():
        path = bot_dir / name
        if path.exists():
            _replace(path, vault.reseal(path.read_bytes(), context=context))
            count += 1
    leftovers = [p.name for p in bot_dir.rglob("*.sealed")
                 if str(p.relative_to(bot_dir)) not in SEALED_FILES]
    if leftovers:
        # Retiring the old key now would make these unreadable: stop with both keys kept.
        raise VaultError(f"unknown sealed files {leftovers}; nothing was retired")
    return count


def _replace(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.chmod(0o600)
    tmp.replace(path)
