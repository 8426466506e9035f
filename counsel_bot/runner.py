"""`counsel bot`: open the vault, restore the device, cross-sign it, then run the loop.

Cross-signing comes before the bot joins or answers anything: Element in strict mode withholds
room keys from a device its owner has not signed, and a youth's client only re-checks later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
from nio import AsyncClient

from counsel_bot.bot import CounselBot
from counsel_bot.bot_store import SqliteBotStore
from counsel_bot.clock import Clock, SystemClock
from counsel_bot.config import Settings
from counsel_bot.session import connect
from e2e.cross_signing import CrossSigningSeeds
from e2e.cross_signing_upload import ensure_cross_signed
from e2e.vault import Vault, passphrase_from_env_or_file
from homeserver_bridge.paths import DataLayout

log = logging.getLogger(__name__)

SEEDS_CONTEXT = b"counsel/cross-signing-seeds/v1"


def open_vault(settings: Settings, layout: DataLayout, config_dir: Path) -> Vault:
    configured = settings.vault.passphrase_file
    file = (config_dir / configured) if configured else None
    passphrase = passphrase_from_env_or_file(settings.vault.passphrase_env, file)
    return Vault.open_or_create(layout.bot_dir / "vault.json", passphrase)


def bot_password(layout: DataLayout, user_id: str) -> str:
    accounts = json.loads((layout.bridge_dir / "accounts.json").read_text(encoding="utf-8"))
    return next(str(a["password"]) for a in accounts if a["user_id"] == user_id)


def load_or_create_seeds(vault: Vault, path: Path) -> CrossSigningSeeds:
    """The cross-signing identity is made once and reused: a new one on every start would
    make Element warn the youth that the bot's identity was reset."""
    if path.exists():
        sealed = path.read_bytes()
        return CrossSigningSeeds.from_bytes(vault.open_sealed(sealed, context=SEEDS_CONTEXT))
    seeds = CrossSigningSeeds.generate()
    path.write_bytes(vault.seal(seeds.to_bytes(), context=SEEDS_CONTEXT))
    path.chmod(0o600)
    return seeds


async def cross_sign(client: AsyncClient, vault: Vault, layout: DataLayout, password: str) -> None:
    if client.should_upload_keys:
        await client.keys_upload()
    seeds = load_or_create_seeds(vault, layout.bot_dir / "cross_signing.sealed")
    async with aiohttp.ClientSession() as http:
        uploaded = await ensure_cross_signed(
            http, client.homeserver, client.access_token, client.user_id, client.device_id,
            seeds, password,
        )
    log.info("cross-signing %s", "published" if uploaded else "already in place")


async def run_bot(
    settings: Settings,
    layout: DataLayout,
    config_dir: Path,
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    on_ready: Callable[[CounselBot], None] | None = None,
) -> None:
    vault = await asyncio.to_thread(open_vault, settings, layout, config_dir)
    user_id = f"@{settings.bot.localpart}:{settings.homeserver.server_name}"
    password = bot_password(layout, user_id)
    client = await connect(
        settings.homeserver.client_url, user_id, password, layout.bot_dir / "nio", vault
    )
    store = await SqliteBotStore.open(layout.bot_dir / "counsel.db")
    try:
        await cross_sign(client, vault, layout, password)
        bot = CounselBot(
            client, store, vault, clock or SystemClock(),
            staff=(*settings.staff.counsellors, *settings.staff.team_leads),
            default_language=settings.bot.default_language,
            undecryptable_grace=timedelta(seconds=settings.bot.undecryptable_grace_seconds),
        )
        if on_ready is not None:
            on_ready(bot)
        runner = asyncio.create_task(bot.run(stop))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if runner.done():
            runner.result()  # a crash of the loop must stop the process, loudly
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    finally:
        await store.close()
        await client.close()  # never logout(): that would delete the device's keys


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # nio logs event contents at debug level; it never logs below WARNING here.
    for noisy in ("nio", "peewee", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main_bot(settings: Settings, layout: DataLayout, config_dir: Path) -> int:
    configure_logging(settings.logging.level)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(settings, layout, config_dir, stop)

    asyncio.run(serve())
    return 0
