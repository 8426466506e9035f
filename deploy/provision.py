"""Provision the scale-out homeserver: the bridge's admin, the bot, a counsellor, a test youth.

Reuses counsel's own first-run provisioning (shared-secret admin account, accounts made through
the admin API, passwords kept 0600 in DATA/bridge/accounts.json), so `counsel bot` finds its
password where it always does. Idempotent: a second run reuses every account.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import aiohttp

from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import Account, admin_client, ensure_accounts


def wanted_accounts(bot_localpart: str, counsellor: str, youth: str) -> list[tuple[str, str, str]]:
    """The bot first (its rate limit is lifted); a test youth only when one is named."""
    wanted = [
        ("bot", bot_localpart, "Beratung"),
        ("counsellor", counsellor, "Beraterin"),
    ]
    if youth:
        wanted.append(("youth", youth, "Testjugend"))
    return wanted


async def provision(
    base_url: str, data: Path, server_name: str, wanted: list[tuple[str, str, str]]
) -> list[Account]:
    layout = DataLayout(data)
    layout.prepare()
    async with aiohttp.ClientSession() as session:
        admin = await admin_client(base_url, layout, session)
        accounts = await ensure_accounts(
            admin, server_name, wanted, layout.bridge_dir / "accounts.json"
        )
        # The bot answers many youths at once; Synapse's per-user message limit is for youths.
        await admin.override_ratelimit(accounts[0].user_id)
    return accounts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="homeserver URL (the proxy)")
    parser.add_argument("--data", type=Path, required=True, help="counsel data directory")
    parser.add_argument("--server-name", required=True)
    parser.add_argument("--bot-localpart", default="beratung")
    parser.add_argument("--counsellor", default="beraterin-1")
    parser.add_argument("--youth", default="jugend-1", help="test youth; empty for none")
    args = parser.parse_args(argv)
    wanted = wanted_accounts(args.bot_localpart, args.counsellor, args.youth)
    accounts = asyncio.run(provision(args.url, args.data, args.server_name, wanted))
    for account in accounts:
        print(f"  {account.role:<11} {account.user_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
