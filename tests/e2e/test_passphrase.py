"""Where the vault passphrase comes from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e.errors import PassphraseUnavailable
from e2e.vault import passphrase_from_env_or_file

VAR = "COUNSEL_VAULT_PASSPHRASE"


def secret_file(tmp_path: Path, content: str, mode: int = 0o600) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(content, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_env_wins_over_file(tmp_path: Path) -> None:
    file = secret_file(tmp_path, "from-file\n")
    assert passphrase_from_env_or_file(VAR, file, environ={VAR: "from-env"}) == "from-env"


def test_empty_env_falls_back_to_file(tmp_path: Path) -> None:
    file = secret_file(tmp_path, "from-file\n")
    assert passphrase_from_env_or_file(VAR, file, environ={VAR: ""}) == "from-file"


@pytest.mark.parametrize(
    ("content", "expected"),
    [("pw\n", "pw"), ("pw\r\n", "pw"), ("pw", "pw"), (" pw with spaces \n", " pw with spaces ")],
)
def test_file_final_newline_stripped(tmp_path: Path, content: str, expected: str) -> None:
    assert passphrase_from_env_or_file(VAR, secret_file(tmp_path, content), environ={}) == expected


def test_nfc_normalised(tmp_path: Path) -> None:
    decomposed = "Gru\u0308n"
    assert passphrase_from_env_or_file(VAR, None, environ={VAR: decomposed}) == "Gr\u00fcn"


def test_neither_set_names_both_options() -> None:
    with pytest.raises(PassphraseUnavailable, match=VAR) as caught:
        passphrase_from_env_or_file(VAR, None, environ={})
    assert "passphrase_file" in str(caught.value)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_file_readable_by_others_refused(tmp_path: Path, mode: int) -> None:
    file = secret_file(tmp_path, "secret-words\n", mode)
    with pytest.raises(PassphraseUnavailable, match="chmod 600") as caught:
        passphrase_from_env_or_file(VAR, file, environ={})
    assert "secret-words" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PassphraseUnavailable, match="does not exist"):
        passphrase_from_env_or_file(VAR, tmp_path / "absent", environ={})


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(PassphraseUnavailable, match="empty"):
        passphrase_from_env_or_file(VAR, secret_file(tmp_path, "\n"), environ={})


def test_directory_refused(tmp_path: Path) -> None:
    with pytest.raises(PassphraseUnavailable, match="regular file"):
        passphrase_from_env_or_file(VAR, tmp_path, environ={})


@pytest.mark.parametrize("mode", [0o400, 0o440])
def test_a_systemd_credential_is_read_whatever_its_acl_mask(tmp_path: Path, mode: int) -> None:
    # systemd hands a credential to a service user through an ACL where the file system
    # supports one (tmpfs, not ramfs); the ACL's mask shows as group bits: 0440.
    file = secret_file(tmp_path, "from-credential\n", mode)
    environ = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert passphrase_from_env_or_file(VAR, file, environ=environ) == "from-credential"


@pytest.mark.parametrize("mode", [0o444, 0o460, 0o404])
def test_a_credential_others_could_read_or_change_is_still_refused(
        tmp_path: Path, mode: int) -> None:
    file = secret_file(tmp_path, "pw\n", mode)
    with pytest.raises(PassphraseUnavailable, match="other users"):
        passphrase_from_env_or_file(VAR, file, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})


def test_group_bits_outside_the_credentials_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "creds").mkdir()
    file = secret_file(tmp_path, "pw\n", 0o440)
    with pytest.raises(PassphraseUnavailable, match="other users"):
        passphrase_from_env_or_file(
            VAR, file, environ={"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")})
