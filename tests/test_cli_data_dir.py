"""`counsel` commands that work on the bot's existing data, given a data directory that holds
none (a typo in --data, or the service's config not passed): one clear line, nothing made."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot import cli


@pytest.mark.parametrize("command", [
    ["vault", "rotate", "--new-passphrase-env", "COUNSEL_TEST_NEW_PASSPHRASE"],
    ["vault", "rotate"],
    ["retention"],
    ["retention", "--dry-run"],
], ids=["rotate with a new passphrase", "rotate", "retention", "retention dry run"])
def test_a_data_directory_without_bot_data_is_said_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    """Before, `counsel vault rotate --data /var/lib/counsle` made a new vault there and
    printed "vault rotated ... passphrase changed": the administrator, rotating because
    the passphrase leaked, gave the real bot the new passphrase, which does not open its
    vault (and the old one may be gone by then). `counsel retention` made a vault and a
    demo configuration in the mistyped directory before it failed on something else."""
    config = tmp_path / "counsel.toml"
    config.write_text("")
    monkeypatch.setenv("COUNSEL_VAULT_PASSPHRASE", "the passphrase of the real vault")
    monkeypatch.setenv("COUNSEL_TEST_NEW_PASSPHRASE", "a brand new passphrase")
    typo = tmp_path / "typo"
    assert cli.main([*command, "--data", str(typo), "--config", str(config)]) == 1
    assert f"no bot data in {typo}" in capsys.readouterr().err
    assert not typo.exists()
