"""Where things live inside a counsel data directory, and how secret files are written."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from homeserver_bridge.errors import DataDirError

# Repository-level config/ (templates, lexicons); found relative to the installed package.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / "counsel.toml"

    @property
    def synapse_dir(self) -> Path:
        return self.root / "synapse"

    @property
    def bridge_dir(self) -> Path:
        return self.root / "bridge"

    @property
    def bot_dir(self) -> Path:
        return self.root / "bot"

    @property
    def admin_token_file(self) -> Path:
        return self.bridge_dir / "admin_token"

    @property
    def trusted_accounts_file(self) -> Path:
        """The bot and the staff: the accounts the homeserver's contact rules leave alone."""
        return self.synapse_dir / "trusted_accounts.json"

    @property
    def registration_secret_file(self) -> Path:
        return self.synapse_dir / "registration_shared_secret"

    def prepare(self) -> None:
        """Create the directories, private to the service's user."""
        for directory in (self.root, self.synapse_dir, self.bridge_dir, self.bot_dir):
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise DataDirError(
                    f"cannot create the data directory {directory} ({exc.strerror}); "
                    "choose a writable place with --data DIR"
                ) from None
            if not os.access(directory, os.W_OK | os.X_OK):
                raise DataDirError(
                    f"the data directory {directory} is not writable; "
                    "fix its permissions or choose another with --data DIR"
                )


def write_private(path: Path, content: str) -> None:
    """Write an owner-only file atomically, so a crash never leaves half a secret."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def ensure_secret_file(path: Path) -> str:
    """Return the secret kept in ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(32)
    write_private(path, value)
    return value


def exposed(path: Path) -> str | None:
    """Why ``path`` cannot hold a secret (others may read or change it), with what to do;
    None when only its owner can. Like the vault passphrase file and ~/.pgpass."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return None
    return (f"{path} can be read or changed by other users (mode {mode:04o}); "
            f"run `chmod 600 {path}` and start again")
