"""`counsel up`: bring the whole service up in one data directory and keep it running.

Order matters: Synapse first (everything talks to it), then provisioning, then the bot;
on shutdown the reverse, so the bot never runs against a stopped homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from counsel_bot.config import Settings, load_settings
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import CONFIG_DIR, DataLayout, write_private
from homeserver_bridge.provision import Account, admin_client, ensure_accounts

DEMO_ACCOUNTS = [
    ("counsellor", "beraterin-demo", "Mia (Beraterin)"),
    ("team lead", "teamleitung-demo", "Jonas (Teamleitung)"),
    ("youth", "jugend-demo", "Sonnenblume"),
]


@dataclass(frozen=True)
class Running:
    settings: Settings
    layout: DataLayout
    synapse: EmbeddedSynapse
    bot_account: Account
    demo: list[Account]


def first_run_config() -> str:
    """The data directory's own counsel.toml: the documented example, with demo accounts on."""
    example = (CONFIG_DIR / "counsel.example.toml").read_text(encoding="utf-8")
    demo_staff = (
        'counsellors = ["@beraterin-demo:counsel.localhost"]\n'
        'team_leads = ["@teamleitung-demo:counsel.localhost"]\n'
    )
    text = example.replace("counsellors = []\nteam_leads = []\n", demo_staff)
    return text.replace("accounts = false", "accounts = true")


def resolve_settings(layout: DataLayout, config: Path | None) -> Settings:
    layout.prepare()
    if config is None:
        config = layout.config_file
        if not config.exists():
            write_private(config, first_run_config())
    return load_settings(config)


async def start(layout: DataLayout, settings: Settings) -> Running:
    synapse = EmbeddedSynapse(settings.homeserver, layout)
    await synapse.start()
    try:
        async with aiohttp.ClientSession() as session:
            admin = await admin_client(synapse.base_url, layout, session)
            wanted = [("bot", settings.bot.localpart, settings.bot.display_name)]
            if settings.demo.accounts:
                wanted += DEMO_ACCOUNTS
            accounts = await ensure_accounts(
                admin, settings.homeserver.server_name, wanted, layout.bridge_dir / "accounts.json"
            )
            await admin.override_ratelimit(accounts[0].user_id)
    except BaseException:
        await synapse.stop()
        raise
    return Running(settings, layout, synapse, accounts[0], accounts[1:])


def banner(running: Running) -> str:
    hs = running.settings.homeserver
    bot = running.bot_account.user_id
    lines = [
        "",
        "counsel is running.",
        f"  Homeserver:        {hs.advertised_url}",
        f"  Counselling chat:  https://matrix.to/#/{bot}   ({bot})",
        f"  Data directory:    {running.layout.root.resolve()}",
        "",
    ]
    if running.demo:
        lines.append("Demo accounts (passwords are kept in bridge/accounts.json):")
        for account in running.demo:
            lines.append(f"  {account.role:<11} {account.user_id:<36} password: {account.password}")
        lines.append("")
    lines += [
        "To log in with Element, FluffyChat or any Matrix app: choose 'Sign in', change the",
        f"homeserver to {hs.advertised_url}, and use one of the accounts above.",
        f"A youth starts a direct chat with {bot}.",
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


async def serve(layout: DataLayout, settings: Settings, out: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = await start(layout, settings)
    try:
        out(banner(running))
        await stop.wait()
        out("Stopping ...")
    finally:
        await running.synapse.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def run_up(data: Path, config: Path | None) -> int:
    layout = DataLayout(data)
    settings = resolve_settings(layout, config)
    asyncio.run(serve(layout, settings, lambda text: print(text, flush=True, file=sys.stdout)))
    return 0
