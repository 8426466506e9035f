"""Issue 4: SIGKILL the bot at many points while it routes; nothing lost, nothing doubled.

The bot runs as its own process (as in production) and is killed with SIGKILL at a random
moment of each round, while youths open chats and write. Afterwards, from the server's and
the store's point of view: every youth has exactly one conversation, assigned once, holding
each of their messages at most once and in order; each counsellor was invited into each room
at most once. A message whose room key a kill destroyed (inside nio's crypto store) cannot be
read by anyone but its writer: the bot must then have asked the youth to send it again.
Every youth's first message names a crisis: its check comes after the invitation, in a
commit of its own, so a kill can fall between the two; every conversation whose crisis
message was read must still be flagged, and no check left due.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from counsel_bot.conversation.crisis_flags import DUE_PREFIX
from counsel_bot.core.routing.model import CrisisStatus
from counsel_bot.store import SqliteStore, Store
from e2e.vault import Vault
from homeserver_bridge.paths import DataLayout, write_private
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import PASSPHRASE, NioYouth, goes_on_duty, login, trust, until

pytestmark = pytest.mark.integration

# Each round kills the bot at another moment (before the join, in intake, routing or the
# invitations); 8 rounds take about a minute. A deeper run: COUNSEL_KILL_ROUNDS=50.
ROUNDS = int(os.environ.get("COUNSEL_KILL_ROUNDS", "8"))


def write_bot_config(
    data: Path, synapse: SynapseHandle, localpart: str, counsellors: list[str]
) -> Path:
    settings = synapse.embedded.settings
    config = data / "counsel.toml"
    config.write_text(
        f'[homeserver]\nserver_name = "{settings.server_name}"\nport = {settings.port}\n'
        f'[bot]\nlocalpart = "{localpart}"\nundecryptable_grace_seconds = 5.0\n'
        f'[vault]\npassphrase_env = "COUNSEL_TEST_NONE"\npassphrase_file = "vault.passphrase"\n'
        f'[staff]\ncounsellors = {json.dumps(counsellors)}\ndefault_capacity = 10\n'
        '[web]\nenabled = false\n'
    )
    write_private(data / "vault.passphrase", PASSPHRASE)
    return config


def start_bot(data: Path, config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "counsel_bot.cli", "bot", "--data", str(data),
         "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=open(data / "bot.log", "ab"),
        env={k: v for k, v in os.environ.items() if k != "COUNSEL_VAULT_PASSPHRASE"},
    )


async def invites_of(synapse: SynapseHandle, room: str, user: str) -> int:
    """How many invite events for ``user`` the room's history holds (admin API)."""
    status, body = await synapse_messages(synapse, room)
    assert status == 200, body
    return sum(
        1 for e in body.get("chunk", [])
        if e.get("type") == "m.room.member" and e.get("state_key") == user
        and e.get("content", {}).get("membership") == "invite"
    )


async def synapse_messages(synapse: SynapseHandle, room: str) -> tuple[int, dict[str, object]]:
    url = f"{synapse.base_url}/_synapse/admin/v1/rooms/{quote(room)}/messages?dir=f&limit=1000"
    headers = {"Authorization": f"Bearer {synapse.admin.access_token}"}
    async with synapse.http.get(url, headers=headers) as response:
        return response.status, await response.json()


async def test_sigkill_at_random_points_loses_and_doubles_nothing(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    rng = random.Random(4)  # a fixed seed: a failure can be replayed
    data = tmp_path / "bot"
    layout = DataLayout(data)
    layout.prepare()
    localpart = f"bot-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    await synapse.admin.register_with_shared_secret(synapse.shared_secret, localpart, password)
    bot_id = f"@{localpart}:{synapse.server_name}"
    await synapse.admin.override_ratelimit(bot_id)
    trust(synapse, bots=[bot_id])
    write_private(layout.bridge_dir / "accounts.json", json.dumps(
        [{"role": "bot", "user_id": bot_id, "password": password, "display_name": "B"}]))

    # Two counsellors with capacity 10 each: room for all ROUNDS conversations.
    counsellors = [await login(synapse, user_factory, tmp_path, "counsellor") for _ in "ab"]
    config = write_bot_config(data, synapse, localpart, [c.client.user_id for c in counsellors])
    youths: list[tuple[NioYouth, str, list[str]]] = []
    bot = start_bot(data, config)
    try:
        for counsellor in counsellors:
            staff_room = await counsellor.accept_invite(within=60)
            await goes_on_duty(counsellor, staff_room, bot_id)

        for round_no in range(ROUNDS):
            youth = await login(synapse, user_factory, tmp_path, "youth")
            room = await youth.open_chat(bot_id)
            words = [f"runde {round_no}: ich bring mich heute um {secrets.token_hex(4)}",
                     f"runde {round_no} nachricht 1 {secrets.token_hex(4)}"]
            youths.append((youth, room, words))
            if bot.poll() is not None:
                bot = start_bot(data, config)
            # Kill at a random moment: before the join, during intake, routing or invites.
            writer = asyncio.create_task(_write_when_joined(youth, room, words))
            await asyncio.sleep(rng.uniform(0.05, 2.5))
            bot.send_signal(signal.SIGKILL)
            bot.wait()
            bot = start_bot(data, config)
            await writer

        # Let the last bot settle: every youth's messages kept, every conversation assigned.
        def settled() -> bool:
            invited = counsellors[0].invited_to() | counsellors[1].invited_to()
            return all(room in invited for _, room, _ in youths)
        await until(settled, within=120, what="every conversation to be assigned")
        await until(lambda: all_kept_or_asked(data, youths), within=90,
                    what="every message to be kept, or its writer asked to send again")
        # And performed: the last round's safety text is committed after its crisis check,
        # which may finish after the invitation the lines above wait for; a stop in between
        # leaves it for the next start (nothing lost), which this run never makes.
        await until(lambda: outbox_done(data), within=60,
                    what="every effect performed, the safety texts among them")
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=30)
        for youth, _, _ in youths:
            await youth.close()
        for counsellor in counsellors:
            await counsellor.close()

    ids = [c.client.user_id for c in counsellors]
    for _, room, _ in youths:
        invites = [await invites_of(synapse, room, user) for user in ids]
        assert sorted(invites) == [0, 1], f"invites per counsellor: {invites}"

    vault = Vault.open(data / "bot" / "vault.json", PASSPHRASE)
    store = await SqliteStore.open(data / "bot" / "counsel.db", vault)
    try:
        for youth, room, words in youths:
            record = await store.conversation_by_room(room)  # type: ignore[arg-type]
            assert record is not None, "a conversation was lost"
            assert record.youth_user_id == youth.client.user_id
            assert record.assigned_to in ids
            kept = [item.body.decode() for item in await store.read_intake(record.conversation)]
            # Each message at most once, in order. A SIGKILL between nio's separate writes of
            # an Olm session and the Megolm key it carried can lose that key: then the bot
            # cannot read the message and, as promised, asks the youth to send it again.
            assert kept == [w for w in words if w in kept], "a message kept twice or reordered"
            if kept != words:
                assert asked_to_resend(youth, room), "an unreadable message went unmentioned"
            if words[0] in kept:
                assert record.crisis is not CrisisStatus.NONE, "a crisis check was skipped"

        snapshot = await store.load_router_snapshot()
        assert len(snapshot.conversations) == ROUNDS
        assert len(await store.pending_outbox()) == 0
        assert await store.sealed_settings(DUE_PREFIX) == []
    finally:
        await store.close()


ASKED_AGAIN = "nicht entschlüsseln"


def asked_to_resend(youth: NioYouth, room: str) -> bool:
    return any(r == room and ASKED_AGAIN in b for r, _, b in youth.received)


async def all_kept_or_asked(
    data: Path, youths: list[tuple[NioYouth, str, list[str]]],
    open_store: Callable[[Vault], Awaitable[Store]] | None = None,
) -> bool:
    """Read the running bot's store beside it (SQLite WAL allows a second reader)."""
    vault = Vault.open(data / "bot" / "vault.json", PASSPHRASE)
    store = (await open_store(vault) if open_store is not None
             else await SqliteStore.open(data / "bot" / "counsel.db", vault))
    try:
        for youth, room, words in youths:
            record = await store.conversation_by_room(room)  # type: ignore[arg-type]
            if record is None:
                return False
            kept = len(await store.read_intake(record.conversation))
            if kept < len(words) and not asked_to_resend(youth, room):
                return False
        return True
    finally:
        await store.close()


async def outbox_done(data: Path) -> bool:
    vault = Vault.open(data / "bot" / "vault.json", PASSPHRASE)
    store = await SqliteStore.open(data / "bot" / "counsel.db", vault)
    try:
        return not await store.pending_outbox()
    finally:
        await store.close()


async def _write_when_joined(youth: NioYouth, room: str, words: list[str]) -> None:
    # A bot killed before it joined joins after its restart: on a busy machine, a restart
    # (the crisis model loaded, the store opened, the first sync) takes more than 30 s.
    await youth.wait_for_join(room, within=120)
    for word in words:
        await youth.send(room, word)

