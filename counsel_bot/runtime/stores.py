"""Open the store the configuration names: the embedded SQLite file, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from counsel_bot.config import StoreSettings
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.data_lock import held
from counsel_bot.store import PostgresStore, Sealer, SqliteStore
from homeserver_bridge.paths import exposed

DATABASE_FILE = "counsel.db"


def store_password(settings: StoreSettings, config_dir: Path) -> str | None:
    """The PostgreSQL password from [store] password_file; None = libpq's own (~/.pgpass)."""
    if not settings.password_file:
        return None
    path = config_dir / settings.password_file
    try:
        password = path.read_text(encoding="utf-8").strip()
        problem = exposed(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a usable path"
        raise BotError(f"cannot read the PostgreSQL password file {str(path)!r} ({reason}); "
                       "fix [store] password_file in counsel.toml") from None
    if problem:
        raise BotError(f"[store] password_file: {problem}")
    return password


async def open_store(
    settings: StoreSettings, bot_dir: Path, config_dir: Path, sealer: Sealer,
    *, epoch: int | None = None, beside_bot: bool = False,
) -> SqliteStore | PostgresStore:
    """The configured store; with PostgreSQL and an `epoch`, writes only within that term.
    A command that may run `beside_bot` (not holding its data directory) leaves the SQLite
    schema to a bot that runs, as PostgreSQL's leaves it to the active one."""
    if not settings.postgres:
        return await SqliteStore.open(bot_dir / DATABASE_FILE, sealer,
                                      upgrade=not (beside_bot and held(bot_dir)))
    store = await PostgresStore.open(settings.url, sealer,
                                     password=store_password(settings, config_dir))
    if epoch is not None:
        store.fence(epoch)
    return store
