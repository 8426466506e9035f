"""Exceptions of the e2e package.

Every message says what an administrator should do next. None of them ever carries a
passphrase, a key, plaintext, or a youth identifier: they end up in logs.
"""

from __future__ import annotations

from pathlib import Path


class VaultError(Exception):
    """Base class for everything the vault refuses to do."""


class WrongPassphrase(VaultError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the vault passphrase does not match the one the vault {path} was created with "
            "(or the vault file was altered); set COUNSEL_VAULT_PASSPHRASE or "
            "vault.passphrase_file to the right one. Nothing was changed."
        )


class VaultCorrupt(VaultError):
    """The vault file cannot be read as a vault (damaged, truncated, or not ours)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"the vault file {path} is unreadable ({problem}); restore it from a backup. "
            "Do not create a new vault over it: every sealed value would be lost."
        )


class VaultExists(VaultError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"a vault already exists at {path}; refusing to overwrite it, since that would "
            "make every sealed value unreadable. Open it instead, or move it away first."
        )


class VaultMissing(VaultError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no vault at {path}; check the data directory setting, or create a vault "
            "(the first start does this)."
        )


class VaultLost(VaultMissing):
    """No vault file, but data it sealed is there: a new vault would orphan all of it."""

    def __init__(self, path: Path, sealed: str) -> None:
        VaultError.__init__(
            self,
            f"no vault at {path}, but {sealed} beside it was sealed by one; restore the vault "
            "file from the backup of this data directory (or point the data directory at the "
            "right one). No new vault was created: it could open none of this.",
        )


class TamperedCiphertext(VaultError):
    """A sealed value cannot be opened: altered, truncated, or opened in the wrong place."""

    def __init__(self, reason: str = "it failed its integrity check") -> None:
        super().__init__(
            f"a sealed value cannot be opened: {reason}. It was altered or truncated, or it "
            "belongs to a different record or a different vault. Restore the data and the "
            "vault file from the same backup; this copy cannot be recovered."
        )


class UnknownDataKey(TamperedCiphertext):
    """The value names a data key this vault does not hold (retired, or a mismatched backup)."""

    def __init__(self, key_id: int) -> None:
        super().__init__(
            f"it names data key {key_id}, which this vault does not hold (retired after a "
            "rotation before the value was re-sealed, or the vault file is from another backup)"
        )
        self.key_id = key_id


class UnsupportedFormat(VaultError):
    def __init__(self, what: str, version: int) -> None:
        super().__init__(
            f"{what} has format version {version}, which this counsel release cannot read; "
            "upgrade counsel (the data was written by a newer release)."
        )


class PassphraseUnavailable(VaultError):
    """No usable passphrase: unset, empty, unreadable file, or a file others can read."""


class CrossSigningError(Exception):
    """Cross-signing the bot's device failed; the message names the step and the remedy."""
