"""Issue 8, faults: Synapse stops and starts again while youths write; every message reaches
the bot exactly once, in order.

The session's Synapse is restarted in place (same port, same data), so this test makes sure
it is running again when it ends, whatever happened: the other tests share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from counsel_bot.core.ids import ConversationID
from homeserver_bridge.errors import SynapseStartError
from tests.conftest import SynapseHandle, UserFactory
from tests.security.support import conversation_of, intake, send_text
from tests.support.bot_harness import BotProcess, NioYouth, provision_bot, until

pytestmark = pytest.mark.integration

YOUTHS = 3
BEFORE = 4  # messages each youth sends while the homeserver is up
DURING = 6  # sent from the moment the homeserver is told to stop
AFTER = 2  # sent once it is back


async def restart_homeserver(synapse: SynapseHandle, within: float = 60) -> None:
    """Start the session's Synapse again; the port may need a moment to be free."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not synapse.embedded.running:
        try:
            await synapse.embedded.start()
        except SynapseStartError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)
    # Connections pooled before the restart are dead: let the shared session find out here
    # rather than in the next test.
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            async with synapse.http.get(f"{synapse.base_url}/health") as response:
                if response.status == 200:
                    return
        if loop.time() > deadline:
            raise AssertionError("Synapse did not answer /health after the restart")
        await asyncio.sleep(0.1)


async def youth_in_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp: Path, bot: BotProcess, tag: str
) -> tuple[NioYouth, str, ConversationID]:
    user = await user_factory("restart-youth")
    youth = await NioYouth.login(synapse.base_url, user.user_id, user.password,
                                 tmp / user.localpart)
    youth.start()
    room = await youth.open_chat(bot.user_id)
    await youth.wait_for(room, bot.user_id, "anonym")
    await send_text(youth, room, f"{tag} hallo")
    return youth, room, await conversation_of(bot, room)


async def write(youth: NioYouth, room: str, bodies: list[str]) -> None:
    """One after another, as a person types: nio retries each send until the server is
    back (no max_timeouts), with the same transaction id, so a retry is not a new message."""
    for body in bodies:
        await send_text(youth, room, body)


async def test_every_message_reaches_the_bot_once_across_a_homeserver_restart(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    await process.start()
    youths: list[NioYouth] = []
    writers: list[asyncio.Task[None]] = []
    try:
        chats = []
        for i in range(YOUTHS):
            tag = f"Y{i}-{secrets.token_hex(3)}"
            youth, room, conversation = await youth_in_conversation(
                synapse, user_factory, tmp_path, process, tag)
            youths.append(youth)
            messages = [f"{tag} hallo"] + [f"{tag} Nachricht {n:02d}"
                                           for n in range(BEFORE + DURING + AFTER)]
            chats.append((youth, room, conversation, messages))

        await asyncio.gather(*(write(y, r, m[1:1 + BEFORE]) for y, r, _, m in chats))
        for _, _, conversation, _ in chats:
            await until(_has(process, conversation, 1 + BEFORE),
                        what="the messages before the restart")

        # The youths keep writing while the server shuts down, and while it is down. Each
        # youth writes one message after the other, as a person does.
        down = asyncio.Event()

        async def keep_writing(youth: NioYouth, room: str, bodies: list[str]) -> None:
            await write(youth, room, bodies[:DURING // 2])
            await down.wait()
            await write(youth, room, bodies[DURING // 2:])

        writers = [asyncio.create_task(keep_writing(y, r, m[1 + BEFORE:1 + BEFORE + DURING]))
                   for y, r, _, m in chats]
        try:
            await synapse.embedded.stop()
            down.set()
            await asyncio.sleep(0)  # let the writers go on; nothing waits on time here
            assert not any(w.done() for w in writers), "a send ended with no server up"
        finally:
            await restart_homeserver(synapse)
        await asyncio.wait_for(asyncio.gather(*writers), 120)
        await asyncio.gather(*(write(y, r, m[1 + BEFORE + DURING:]) for y, r, _, m in chats))

        for _, _, conversation, messages in chats:
            await until(_has(process, conversation, len(messages)),
                        within=90, what="every message after the restart")
        for _, _, conversation, messages in chats:
            assert await intake(process, conversation) == messages
        # Nothing arrives twice later either: the bot's next syncs bring no second copy.
        await process.stop()
        await process.start()
        for _, _, conversation, messages in chats:
            assert await intake(process, conversation) == messages
    finally:
        for writer in writers:
            writer.cancel()
        if not synapse.embedded.running:
            await restart_homeserver(synapse)
        await process.stop()
        for youth in youths:
            await youth.close()


def _has(
    process: BotProcess, conversation: ConversationID, count: int
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(await intake(process, conversation)) >= count
    return check

