"""Where the vault passphrase comes from: an environment variable or a file.

The environment variable wins when both are set, so an operator can override a configured
file for one run. A passphrase file that group or others can read is refused (as ssh refuses
a readable private key): a warning would be read too late, after the secret had leaked.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from e2e.errors import PassphraseUnavailable


def passphrase_from_env_or_file(
    env_var: str,
    file: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    what: str = "vault",
) -> str:
    """Return the vault passphrase from ``env_var`` (if set and non-empty) or from ``file``.

    ``environ`` defaults to ``os.environ``; tests pass their own mapping.
    """
    env = os.environ if environ is None else environ
    from_env = env.get(env_var, "")
    if from_env:
        return normalise(from_env)
    if file is None:
        raise PassphraseUnavailable(
            f"no vault passphrase: set the environment variable {env_var} or "
            "vault.passphrase_file (a file readable only by the user counsel runs as)"
        )
    return normalise(_read_passphrase_file(file, env.get("CREDENTIALS_DIRECTORY", ""), what))


def normalise(passphrase: str) -> str:
    """NFC, so the same passphrase typed on different systems derives the same key."""
    return unicodedata.normalize("NFC", passphrase)


def _credential(file: Path, credentials: str) -> bool:
    """Whether ``file`` is one systemd handed this service (``LoadCredential=``)."""
    if not credentials:
        return False
    return file.resolve().parent == Path(credentials).resolve()


def _read_passphrase_file(file: Path, credentials: str = "", what: str = "vault") -> str:
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise PassphraseUnavailable(
            f"the {what} passphrase file {file} does not exist; create it (chmod 600) or fix "
            f"the setting that names it{' (vault.passphrase_file)' if what == 'vault' else ''}"
        ) from None
    if not stat.S_ISREG(mode):
        raise PassphraseUnavailable(f"the {what} passphrase file {file} is not a regular file")
    # systemd gives a service user its credential through an ACL where the file system
    # has them (tmpfs in a container, not ramfs); the ACL mask then shows as group read.
    # The directory is the unit's alone, so that bit grants nobody else anything.
    refused = 0o037 if _credential(file, credentials) else 0o077
    if mode & refused:
        raise PassphraseUnavailable(
            f"the {what} passphrase file {file} can be read or changed by other users "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {file}` and start again"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PassphraseUnavailable(
            f"cannot read the {what} passphrase file {file} ({type(exc).__name__}); check its "
            "owner and that it is UTF-8 text"
        ) from None
    # Editors add a final newline; the passphrase itself is everything before it.
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise PassphraseUnavailable(f"the {what} passphrase file {file} is empty")
    return text
