"""The admin changes [bot] localpart (or [homeserver] server_name) after the first start:
the bot's data (its login, device, cross-signing identity, every youth's room) belongs to
the account it was made for. Real Synapse."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from pathlib import Path

import pytest

from counsel_bot.core.errors import BotError
from tests.conftest import SynapseHandle
from tests.support.bot_harness import provision_bot


@pytest.mark.integration
async def test_a_renamed_bot_account_is_refused_at_the_start(
    synapse: SynapseHandle, tmp_path: Path
) -> None:
    """`counsel up` makes the account the new localpart names (it is in accounts.json
    beside the old one), and the banner sends youths to it. Before, the bot restored its
    saved login, the old account's, and ran as that one without a word: youths who wrote
    to the advertised account waited for a bot that never came, and the homeserver's
    contact rules, which name only the new account as the bot, treated the running one as
    a youth. Now the start stops with what to set back."""
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    await process.start()
    old = process.user_id
    await process.stop()
    # What `counsel up` does with the new localpart before it starts the bot.
    localpart = f"bot-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    await synapse.admin.register_with_shared_secret(synapse.shared_secret, localpart, password)
    accounts = process.layout.bridge_dir / "accounts.json"
    known = json.loads(accounts.read_text(encoding="utf-8"))
    known.append({"role": "bot", "user_id": f"@{localpart}:{synapse.server_name}",
                  "password": password, "display_name": "Beratung"})
    accounts.write_text(json.dumps(known), encoding="utf-8")
    process.settings = replace(process.settings,
                               bot=replace(process.settings.bot, localpart=localpart))
    try:
        with pytest.raises(BotError, match=f"belongs to the bot account {old}") as refused:
            await process.start()
        assert f'localpart = "{old[1:].partition(":")[0]}"' in str(refused.value)
    finally:
        if process.bot is not None:
            await process.stop()
