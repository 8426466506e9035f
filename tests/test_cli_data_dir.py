"""`counsel` commands that work on the bot's existing data, given a data directory that holds
none (a typo in --data, or the service's config not passed): one clear line, nothing made."""

from __future__ import annotations

import json
import os
import pwd
import socket
from pathlib import Path

import pytest

from counsel_bot import cli
from counsel_bot.runtime.runner import open_vault
from counsel_bot.runtime.service import resolve_settings
from e2e.errors import VaultLost
from homeserver_bridge.paths import DataLayout
from tests.conftest import free_port


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


SERVICE_UID = 65534  # nobody: the data directory's owner, as `counsel` is under the unit


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the directory to another user")
@pytest.mark.parametrize("command", [
    ["vault", "rotate"],
    ["retention"],
    ["retention", "--dry-run"],
    ["web", "reset-second-factor", "@lea:counsel.localhost"],
], ids=["rotate", "retention", "retention dry run", "reset second factor"])
def test_a_command_run_as_another_user_than_the_data_owner_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    """The data directory of the systemd unit belongs to the user counsel; an administrator
    runs `sudo counsel vault rotate --data /var/lib/counsel`. Before, the rotation replaced
    bot/vault.json with a file of root's (0600), and the lock and the database were made as
    root: the service could no longer read its own vault and did not start again, so no
    youth was answered and no crisis flagged. Now nothing is written and the error says
    as whom to run it."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    open_vault(settings, layout, config_dir)
    for path in (data, *data.rglob("*")):
        os.chown(path, SERVICE_UID, SERVICE_UID)
    assert cli.main([*command, "--data", str(data)]) == 1
    error = capsys.readouterr().err
    assert f"{data} belongs to the user {pwd.getpwuid(SERVICE_UID).pw_name}" in error
    assert f"sudo -u {pwd.getpwuid(SERVICE_UID).pw_name} counsel" in error
    assert {path.stat().st_uid for path in data.rglob("*")} == {SERVICE_UID}


def test_a_data_directory_whose_configuration_is_gone_keeps_its_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`make run` wrote DATA/counsel.toml and DATA/vault.passphrase; the administrator moves
    the configuration to /etc/counsel (as the README says to, for production) and runs a
    command without --config. Before, the first-run set-up wrote a new demo configuration
    and a new random vault.passphrase over the one the vault was made with: nothing the
    bot had sealed (conversations, pending crisis alerts, its E2E session) opened again."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    open_vault(settings, layout, config_dir)
    passphrase = (data / "vault.passphrase").read_bytes()
    (data / "counsel.toml").rename(tmp_path / "moved.toml")

    assert cli.main(["retention", "--dry-run", "--data", str(data)]) == 1
    assert (data / "vault.passphrase").read_bytes() == passphrase
    assert not (data / "counsel.toml").exists()
    error = capsys.readouterr().err
    assert f"no configuration file {data / 'counsel.toml'}" in error
    assert "--config" in error


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the directory to another user")
def test_counsel_up_run_as_another_user_than_the_data_owner_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`sudo counsel up --data /var/lib/counsel ...` to see why the service fails: even when
    it stopped at once (here: the homeserver's port is taken), it had made up.lock as root,
    0600, and the service, as the user counsel, could then never open it to start."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    open_vault(settings, layout, config_dir)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        config = data / "counsel.toml"
        config.write_text(config.read_text().replace("port = 8008", f"port = {port}"))
        for path in (data, *data.rglob("*")):
            os.chown(path, SERVICE_UID, SERVICE_UID)
        assert cli.main(["up", "--data", str(data)]) == 1
    assert [p.name for p in data.rglob("*") if p.stat().st_uid != SERVICE_UID] == []
    error = capsys.readouterr().err
    assert f"{data} belongs to the user {pwd.getpwuid(SERVICE_UID).pw_name}" in error


@pytest.mark.parametrize("accounts", [None, [{"role": "bot", "user_id": "@beratung:x",
                                             "password": "p", "display_name": "Beratung"}]],
                         ids=["no accounts file", "another bot localpart"])
def test_counsel_bot_without_its_account_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], accounts: object,
) -> None:
    """`counsel bot` reads its password from bridge/accounts.json, which `counsel up` or
    deploy/provision.py writes. Started on a directory they never provisioned, or after
    [bot] localpart was changed in counsel.toml, it ended as "internal error ... a bug,
    please report it" with a traceback (FileNotFoundError, StopIteration)."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    open_vault(settings, layout, config_dir)
    if accounts is not None:
        (data / "bridge" / "accounts.json").write_text(json.dumps(accounts))
    assert cli.main(["bot", "--data", str(data)]) == 1
    error = capsys.readouterr().err
    assert "internal error" not in error
    assert "@beratung:counsel.localhost" in error
    assert "accounts.json" in error
    assert "counsel up" in error


def test_counsel_stats_on_a_directory_without_a_configuration_makes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`counsel stats --data /var/lib/counsle` (a typo, or the service's config in /etc not
    passed) set the directory up for a first run: it wrote a demo counsel.toml and a new
    vault.passphrase there, then read the demo's /metrics port, and the lead saw a
    connection error or another installation's figures, not that the directory was wrong.
    Now it says which configuration it lacks and makes nothing."""
    typo = tmp_path / "typo"
    assert cli.main(["stats", "--data", str(typo)]) == 1
    error = capsys.readouterr().err
    assert f"no configuration file {typo / 'counsel.toml'}" in error
    assert "--config" in error
    assert not typo.exists()
    # Given the configuration, stats needs nothing of the data directory either.
    config = tmp_path / "counsel.toml"
    config.write_text(f"[web]\nport = {free_port()}\n")  # nobody's: no other bot's figures
    cli.main(["stats", "--data", str(typo), "--config", str(config)])
    assert not typo.exists()


def test_a_restored_vault_still_opens_with_the_passphrase_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`make run` wrote DATA/counsel.toml and DATA/vault.passphrase. The configuration was
    moved elsewhere (as the README says for production) and bot/vault.json went missing (a
    restore that left it out). `counsel bot` without --config took this for a first run:
    it wrote a demo configuration and a new random vault.passphrase over the one the vault
    was made with, then said "no vault ... restore the vault file from the backup". The
    restored vault then opened with nothing: every conversation, pending crisis alert and
    the bot's E2E session sealed in the store were lost. A passphrase file already there
    is kept."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    open_vault(settings, layout, config_dir)
    (data / "bot" / "counsel.db").write_bytes(b"sealed by the vault")
    passphrase = (data / "vault.passphrase").read_bytes()
    backup = tmp_path / "vault.json.backup"
    (data / "bot" / "vault.json").rename(backup)
    (data / "counsel.toml").rename(tmp_path / "moved.toml")

    settings, config_dir = resolve_settings(layout, None)
    with pytest.raises(VaultLost, match="restore the vault file"):
        open_vault(settings, layout, config_dir)
    backup.rename(data / "bot" / "vault.json")
    assert (data / "vault.passphrase").read_bytes() == passphrase
    open_vault(settings, layout, config_dir)


def test_a_new_vault_passphrase_short_enough_to_guess_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`counsel vault rotate --new-passphrase-env NEW` with NEW=geheim2026 re-sealed the
    vault under it without a word: everything the bot keeps (sealed intake, the E2E
    session) was then as safe as a word one guesses offline from a copy of the data
    directory. A new passphrase needs at least 12 characters, as a backup's; the old
    vault is left as it was."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    settings, config_dir = resolve_settings(layout, None)
    open_vault(settings, layout, config_dir)
    vault = (data / "bot" / "vault.json").read_bytes()
    monkeypatch.setenv("COUNSEL_TEST_NEW_PASSPHRASE", "geheim2026")
    assert cli.main(["vault", "rotate", "--data", str(data),
                     "--new-passphrase-env", "COUNSEL_TEST_NEW_PASSPHRASE"]) == 1
    error = capsys.readouterr().err
    assert "at least 12 characters" in error
    assert "geheim2026" not in error
    assert (data / "bot" / "vault.json").read_bytes() == vault


@pytest.mark.parametrize("demo_staff", ["counsellors", "team_leads"])
def test_demo_staff_left_in_the_configuration_with_the_demo_off_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_staff: str,
) -> None:
    """`make run` wrote DATA/counsel.toml with the demo counsellor and team lead as [staff];
    their passwords were printed at every start (the terminal, the journal). The admin
    turns the demo off ([demo] accounts = false) and names the real team, but the two
    demo lines stay: the accounts lived on as staff, and whoever had read a banner signed
    in as the team lead (the dashboard, the staff room's crisis alerts, youths with
    `!duty on`). `counsel up` now refuses them, naming the line, before anything starts
    (here the homeserver's port is taken: before, that was all that was said)."""
    data = tmp_path / "data"
    layout = DataLayout(data)
    resolve_settings(layout, None)
    config = data / "counsel.toml"
    text = config.read_text().replace("accounts = true", "accounts = false")
    keep = {"counsellors": 'team_leads = ["@teamleitung-demo:counsel.localhost"]',
            "team_leads": 'counsellors = ["@beraterin-demo:counsel.localhost"]'}[demo_staff]
    assert keep in text
    text = text.replace(keep, keep.split(" = ")[0] + " = []")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        config.write_text(text.replace("port = 8008", f"port = {squatter.getsockname()[1]}"))
        assert cli.main(["up", "--data", str(data)]) == 1
    error = capsys.readouterr().err
    assert f"staff.{demo_staff}" in error
    assert "demo" in error
