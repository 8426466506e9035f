"""The bot's first messages in a fresh room reach every device of the people they are for,
also one whose keys the bot learns of only after it sent them, on real Synapse.

The race, made certain: a second device of the counsellor (the laptop they log in on to open
the link) is logged in before the link is sent, but its keys are published only after the
bot sent it; the bot cannot have shared the room key with it then. Without more, that link
stays unreadable on the laptop for good: nio shares a room key once, and a device found
later gets only the next session's. The same for a youth's first answer from the bot."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nio import JoinResponse, KeysQueryResponse, Response, SyncResponse

from counsel_bot.channels.matrix.session import connect
from e2e.vault import KdfParams, Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import (
    NioYouth,
    login_as,
    on_duty,
    provision_bot,
    trust,
    until,
)
from tests.support.video import invitation_to_direct, video_asked, video_office

pytestmark = pytest.mark.integration

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


async def test_the_link_is_readable_on_a_device_whose_keys_came_after_it_was_sent(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with video_office(synapse, user_factory, tmp_path) as office:
        account, counsellor, bot = office.account, office.counsellor, office.bot
        staff_room = await on_duty(counsellor, bot)
        room = await video_asked(counsellor, office.youth, bot)
        direct = await invitation_to_direct(counsellor, {room, staff_room})

        # The laptop logs in while the link waits for the counsellor; its keys come later.
        laptop = await NioYouth.login(synapse.base_url, account.user_id, account.password,
                                      tmp_path / "laptop", publish_keys=False)
        office.closing.append(laptop)
        assert await counsellor.accept_invite() == direct
        link = await counsellor.wait_for(direct, bot, "?jwt=", within=60)

        await laptop.publish_keys()
        laptop.start()
        assert await laptop.wait_for(direct, bot, "?jwt=", within=60) == link


async def test_a_device_that_lost_the_links_key_gets_it_again_when_it_asks(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The bot shared the link's key with the counsellor's laptop, but the laptop lost it
    (its store reset, an Olm message it could not read): asked, the bot gives it again."""
    async with video_office(synapse, user_factory, tmp_path) as office:
        account, counsellor, bot = office.account, office.counsellor, office.bot
        assert office.process.bot is not None
        bot_client = office.process.bot.client
        staff_room = await on_duty(counsellor, bot)
        room = await video_asked(counsellor, office.youth, bot)
        direct = await invitation_to_direct(counsellor, {room, staff_room})
        laptop = await NioYouth.login(synapse.base_url, account.user_id, account.password,
                                      tmp_path / "laptop")
        office.closing.append(laptop)
        laptop_device = laptop.client.device_id
        await until(lambda: laptop_device in bot_client.device_store[account.user_id],
                    within=60, what="the bot to learn of the laptop")
        assert await counsellor.accept_invite() == direct
        await counsellor.wait_for(direct, bot, "?jwt=", within=60)

        # The laptop loses the room key the bot shared with it.
        olm = laptop.client.olm
        assert olm is not None
        handle = olm._handle_room_key_event
        lost: list[str] = []

        def lose_the_first(sender: str, sender_key: str, payload: dict[str, Any]) -> Any:
            if not lost and payload.get("content", {}).get("room_id") == direct:
                lost.append(direct)
                return None
            return handle(sender, sender_key, payload)
        olm._handle_room_key_event = lose_the_first  # type: ignore[method-assign]
        laptop.start()
        await until(lambda: any(r == direct for r, _ in laptop.undecryptable), within=60,
                    what="the link, unreadable on the laptop")
        assert lost == [direct]

        await laptop.ask_senders_for_keys()
        await laptop.wait_for(direct, bot, "?jwt=", within=60)


async def test_the_greeting_is_readable_on_a_youths_device_whose_keys_came_after_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    await process.start()
    account = await user_factory("youth")
    youth = await login_as(synapse, account, tmp_path)
    bot = process.user_id
    tablet: NioYouth | None = None
    try:
        tablet = await NioYouth.login(synapse.base_url, account.user_id, account.password,
                                      tmp_path / "tablet", publish_keys=False)
        room = await youth.open_chat(bot)
        greeting = await youth.wait_for(room, bot, "anonym", within=60)

        await tablet.publish_keys()
        tablet.start()
        assert await tablet.wait_for(room, bot, "anonym", within=60) == greeting
    finally:
        await process.stop()
        if tablet is not None:
            await tablet.close()
        await youth.close()


async def test_a_device_reported_while_a_keys_query_is_on_its_way_is_asked_for_again(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The bot asks for a member's devices (a room it just joined); the member's new device
    publishes its keys after the homeserver answered, and the sync saying so is read before
    that answer. nio then took the answer for the news and forgot the member needs asking
    again: the device stayed unknown to the bot, and got none of its room keys, until the
    member's devices next changed."""
    bot_account = await user_factory("bot")
    trust(synapse, bots=[bot_account.user_id])
    vault = Vault.open_or_create(tmp_path / "vault.json", "passphrase for a test", CHEAP)
    client = await connect(synapse.base_url, bot_account.user_id, bot_account.password,
                           tmp_path / "nio", vault)
    account = await user_factory("counsellor")
    phone = await login_as(synapse, account, tmp_path)
    laptop: NioYouth | None = None
    try:
        await client.sync(timeout=0, full_state=True)
        await client.keys_upload()
        room = await phone.open_chat(client.user_id)

        async def invited() -> bool:
            await client.sync(timeout=200)
            return room in client.invited_rooms
        await until(invited, what="the invitation")
        assert isinstance(await client.join(room), JoinResponse)

        async def joined() -> bool:
            await client.sync(timeout=200)
            return room in client.rooms and account.user_id in client.rooms[room].users
        await until(joined, what="the join")
        assert account.user_id in client.users_for_key_query

        # The homeserver's answer to the bot's query is held until the sync is read.
        answered, release = asyncio.Event(), asyncio.Event()
        receive = client.receive_response

        async def held(response: Response) -> None:
            if isinstance(response, KeysQueryResponse):
                answered.set()
                await release.wait()
            await receive(response)
        client.receive_response = held  # type: ignore[method-assign]
        query = asyncio.create_task(client.keys_query())
        await asyncio.wait_for(answered.wait(), 30)

        laptop = await NioYouth.login(synapse.base_url, account.user_id, account.password,
                                      tmp_path / "laptop")

        async def reported() -> bool:
            answer = await client.sync(timeout=200)
            return isinstance(answer, SyncResponse) \
                and account.user_id in answer.device_list.changed
        await until(reported, what="the sync reporting the new device")
        release.set()
        await asyncio.wait_for(query, 30)
        client.receive_response = receive  # type: ignore[method-assign]

        if client.should_query_keys:
            await client.keys_query()
        assert laptop.client.device_id in client.device_store[account.user_id]
    finally:
        await client.close()
        if laptop is not None:
            await laptop.close()
        await phone.close()
