"""A data directory whose vault file is gone (a restore that forgot it, a volume not mounted)
still holds what the old vault sealed. Opening it must stop with the vault named as missing,
and must not create a new vault there: with a new one, nothing sealed before opens again,
values sealed from then on belong to a vault the backup does not have, and the error that
followed spoke of tampered data."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.config import Settings
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.runner import open_vault
from e2e.errors import VaultMissing
from homeserver_bridge.paths import DataLayout


@pytest.mark.parametrize("left", ["counsel.db", "nio/session.sealed", "cross_signing.sealed"])
def test_no_new_vault_beside_data_the_old_one_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, left: str
) -> None:
    monkeypatch.setenv("COUNSEL_VAULT_PASSPHRASE", "the configured passphrase")
    layout = DataLayout(tmp_path)
    layout.prepare()
    (layout.bot_dir / left).parent.mkdir(parents=True, exist_ok=True)
    (layout.bot_dir / left).write_bytes(b"sealed by the vault that is gone")

    with pytest.raises(VaultMissing, match="restore"):
        open_vault(Settings(), layout, tmp_path)

    assert not (layout.bot_dir / "vault.json").exists()


def test_a_first_start_still_creates_the_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COUNSEL_VAULT_PASSPHRASE", "the configured passphrase")
    layout = DataLayout(tmp_path)
    layout.prepare()
    (layout.bot_dir / "nio").mkdir()  # an empty nio directory holds nothing sealed

    assert open_vault(Settings(), layout, tmp_path).key_ids == (1,)
    assert (layout.bot_dir / "vault.json").exists()


def test_a_first_start_makes_no_vault_under_a_guessable_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COUNSEL_VAULT_PASSPHRASE=geheim2026 at the first start made the vault under it:
    everything the bot seals (youths' words kept for a late counsellor, its E2E session)
    was then as safe as a word guessed offline from a copy of the data directory. A new
    vault needs at least 12 characters (as `vault rotate`'s new passphrase and a backup's);
    one made before opens as ever."""
    monkeypatch.setenv("COUNSEL_VAULT_PASSPHRASE", "geheim2026")
    layout = DataLayout(tmp_path)
    layout.prepare()

    with pytest.raises(BotError, match="at least 12 characters"):
        open_vault(Settings(), layout, tmp_path)
    assert not (layout.bot_dir / "vault.json").exists()
