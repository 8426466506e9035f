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
