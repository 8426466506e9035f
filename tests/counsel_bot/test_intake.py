"""Issue 3 end to end: real Synapse, real E2E, a nio youth and Element's own crypto stack."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.channels.matrix.membership import can_moderate
from counsel_bot.core.ids import RoomID, UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import BotProcess, LogCollector, NioYouth, provision_bot, until
from tests.support.js_client import open_js_client

pytestmark = pytest.mark.integration


@pytest.fixture
def logs() -> AsyncIterator[LogCollector]:
    collector = LogCollector()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    root.setLevel(old_level)


@pytest_asyncio.fixture(loop_scope="session")
async def bot(synapse: SynapseHandle, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = await provision_bot(synapse, tmp_path / "data", staff=[])
    await process.start()
    yield process
    await process.stop()


async def nio_youth(synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path) -> NioYouth:
    user = await user_factory("youth")
    youth = await NioYouth.login(synapse.base_url, user.user_id, user.password,
                                 tmp_path / f"youth-{user.localpart}")
    youth.start()
    return youth


async def intake_of(bot: CounselBot, room: str) -> list[str]:
    """What the bot keeps of a youth's words for the counsellor (decrypted for the test)."""
    record = await bot.store.conversation_by_room(RoomID(room))
    if record is None:
        return []
    return [item.body.decode() for item in await bot.store.read_intake(record.conversation)]


def canary() -> str:
    return f"KANARIENVOGEL-{secrets.token_hex(8)}"


def assert_nowhere(secret: str, data_dir: Path, log_lines: list[str]) -> None:
    needle = secret.encode()
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), f"plaintext found in {path.name}"
    assert not any(secret in line for line in log_lines), "plaintext found in a log line"


async def test_nio_youth_reaches_the_bot_end_to_end(
    synapse: SynapseHandle, user_factory: UserFactory, bot: BotProcess, tmp_path: Path,
    logs: LogCollector,
) -> None:
    youth = await nio_youth(synapse, user_factory, tmp_path)
    try:
        room = await youth.open_chat(bot.user_id)
        greeting = await youth.wait_for(room, bot.user_id, "anonym")
        assert "verschlüsselt" in greeting
        secret = canary()
        await youth.send(room, f"Hallo, ich bin traurig. {secret}")
        assert bot.bot is not None
        live = bot.bot

        async def kept() -> bool:
            return any(secret in t for t in await intake_of(live, room))

        await until(kept, what="the intake to be kept")
        record = await live.store.conversation_by_room(room)
        assert record is not None
        assert record.youth_user_id == youth.client.user_id
        await bot.stop()
        assert_nowhere(secret, bot.layout.root, logs.lines)
    finally:
        await youth.close()


async def test_a_room_the_bot_cannot_moderate_is_moved_to_the_bots_own_room(
    synapse: SynapseHandle, user_factory: UserFactory, bot: BotProcess, tmp_path: Path
) -> None:
    youth = await nio_youth(synapse, user_factory, tmp_path)
    try:
        first = await youth.open_chat(bot.user_id, like_element=False)
        await youth.wait_for(first, bot.user_id, "eigenen, verschlüsselten Raum")
        room = await youth.accept_invite()
        assert room != first
        await youth.wait_for(room, bot.user_id, "anonym")
        assert bot.bot is not None
        assert await can_moderate(bot.bot.client, RoomID(room), bot.bot.user_id)
        levels = youth.client.rooms[room].power_levels
        assert levels.get_user_level(youth.client.user_id) == 0
        assert levels.defaults.invite == 100
        assert levels.defaults.kick == 100
    finally:
        await youth.close()


async def test_words_written_before_the_move_are_taken_along_and_checked(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth whose app makes a room the bot cannot moderate (nio's own private chat)
    writes at once, before reading that counselling happens elsewhere. The bot stays in
    that room until the youth is in the new one: the words go with them into the new
    conversation, the crisis check reads them, and the youth is told where to go on, with
    the numbers (found on a fresh install: the first message was lost, unchecked)."""
    counsellor = await nio_youth(synapse, user_factory, tmp_path)
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    await process.start()
    youth = await nio_youth(synapse, user_factory, tmp_path)
    try:
        staff_room = await counsellor.accept_invite(within=60)
        first = await youth.open_chat(process.user_id, like_element=False)
        await youth.send(first, "ich will mich umbringen")
        await counsellor.wait_for(staff_room, process.user_id, "KRISENHINWEIS", within=60)
        reminder = await youth.wait_for(first, process.user_id, "mitgenommen", within=60)
        assert "0800" in reminder  # the numbers, in the room the youth is writing in
        room = await youth.accept_invite(within=60)
        assert room != first
        assert process.bot is not None
        assert await intake_of(process.bot, room) == ["ich will mich umbringen"]
        await youth.wait_for(room, process.user_id, "nicht allein", within=60)

        async def left_the_first_room() -> bool:
            return process.user_id not in await synapse.admin.room_members(first)
        await until(left_the_first_room, what="the bot to leave the first room")
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()


async def test_english_youth_is_answered_in_english(
    synapse: SynapseHandle, user_factory: UserFactory, bot: BotProcess, tmp_path: Path
) -> None:
    youth = await nio_youth(synapse, user_factory, tmp_path)
    try:
        room = await youth.open_chat(bot.user_id)
        await youth.wait_for(room, bot.user_id, "anonym")
        await youth.send(room, "hi, I don't know what to do and I need someone to talk to")
        reply = await youth.wait_for(room, bot.user_id, "You stay anonymous")
        assert "counsellor" in reply
    finally:
        await youth.close()


async def test_strict_element_stack_youth_talks_to_the_cross_signed_bot(
    synapse: SynapseHandle, user_factory: UserFactory, bot: BotProcess
) -> None:
    user = await user_factory("strict-youth")
    async with open_js_client() as youth:
        await youth.login(synapse.base_url, user.user_id, user.password, strict=True)
        await youth.start()
        room = await youth.create_dm(UserID(bot.user_id))
        greeting = await youth.wait_for_message(room, sender=bot.user_id, contains="anonym",
                                                within=30)
        assert "Hallo" in greeting.body
        secret = canary()
        await youth.send(room, f"ich brauche hilfe {secret}")
        assert bot.bot is not None
        live = bot.bot

        async def kept() -> bool:
            return any(secret in t for t in await intake_of(live, room))

        await until(kept, what="the strict youth's message to reach the bot")


async def test_restart_keeps_the_device_and_decrypts_what_came_meanwhile(
    synapse: SynapseHandle, user_factory: UserFactory, bot: BotProcess, tmp_path: Path
) -> None:
    youth = await nio_youth(synapse, user_factory, tmp_path)
    try:
        room = await youth.open_chat(bot.user_id)
        await youth.wait_for(room, bot.user_id, "anonym")
        assert bot.bot is not None
        device_before = bot.bot.client.device_id
        await bot.stop()

        secret = canary()
        await youth.send(room, f"bist du noch da? {secret}")
        live = await bot.start()
        assert live.client.device_id == device_before

        async def kept() -> bool:
            return any(secret in t for t in await intake_of(live, room))

        await until(kept, what="the message sent while the bot was down")
        # Exactly once: a second restart does not record it again.
        await bot.stop()
        live = await bot.start()
        transcript = await intake_of(live, room)
        assert sum(secret in t for t in transcript) == 1
    finally:
        await youth.close()


async def test_more_messages_than_a_sync_carries_while_the_bot_was_down_are_all_kept(
    synapse: SynapseHandle, user_factory: UserFactory, bot: BotProcess, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small page, so a handful of messages overflow it as hundreds would in production.
    monkeypatch.setattr("counsel_bot.channels.matrix.sync_requests.SYNC_TIMELINE_LIMIT", 3)
    youth = await nio_youth(synapse, user_factory, tmp_path)
    try:
        room = await youth.open_chat(bot.user_id)
        await youth.wait_for(room, bot.user_id, "anonym")
        await bot.stop()
        words = [f"nachricht {n} {secrets.token_hex(3)}" for n in range(8)]
        for word in words:
            await youth.send(room, word)
        live = await bot.start()

        async def all_kept() -> bool:
            return len(await intake_of(live, room)) >= len(words)

        await until(all_kept, what="every message sent while the bot was down")
        assert await intake_of(live, room) == words  # in order, each once
    finally:
        await youth.close()
