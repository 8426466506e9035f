"""A staff room the bot lost (an admin deleted it, or someone removed the bot) is replaced,
and a crisis alert still reaches the staff: before, every staff notice was refused, retried
five times and dropped, the alert with it, and the only trace was a log line.

Real Synapse, real E2E clients; the room is deleted through Synapse's admin API, as an
admin tidying up rooms would."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nio import RoomCreateError

from counsel_bot.channels import outbox_worker
from counsel_bot.channels.outbox_worker import MAX_ATTEMPTS
from counsel_bot.config import OfficeSettings, RoutingSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import (
    NioYouth,
    Office,
    block_invitations,
    login,
    office,
    provision_bot,
    until,
)

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


async def new_staff_room(staff: NioYouth, lost: str) -> str:
    """The room the bot invites the staff member to next (the lost one no longer counts).
    Within two minutes: a purge that ended before the bot's next sync takes the leave the
    sync would report, and the bot finds the room gone at its next look, once a minute
    (`missed_leaves`; CI under load, 2026-12-07)."""
    await until(lambda: any(r != lost for r in staff.invited_to()), within=120)
    return await staff.accept_invite(within=60)


async def test_a_deleted_staff_room_is_replaced_and_the_alert_arrives(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        assert o.lead is not None
        lost = await o.counsellor.accept_invite(within=60)
        await o.lead.accept_invite(within=60)
        await synapse.admin.delete_room_and_wait(lost)

        room = await o.youth.open_chat(o.bot_user)
        await o.youth.send(room, CRISIS)

        for member in (o.lead, o.counsellor):
            replaced = await new_staff_room(member, lost)
            assert replaced != lost
            await member.wait_for(replaced, o.bot_user, "KRISENHINWEIS", within=60)
            await member.wait_for(replaced, o.bot_user, "ersetzt", within=60)
        assert await o.bot.staff_room() == replaced


async def test_a_staff_room_deleted_while_the_bot_was_stopped_is_replaced_at_the_start(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        lost = await o.counsellor.accept_invite(within=60)
        await o.process.stop()
        await synapse.admin.delete_room_and_wait(lost)
        await o.process.start()

        replaced = await new_staff_room(o.counsellor, lost)
        await o.counsellor.wait_for(replaced, o.bot_user, "ersetzt", within=60)
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.send(room, CRISIS)
        await o.counsellor.wait_for(replaced, o.bot_user, "KRISENHINWEIS", within=60)


async def test_a_refused_alert_finds_the_room_lost_before_the_sync_says_so(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The alert may be sent before the sync that tells the bot it left: the refusal itself
    leads to the check and the new room (the sync's own replacement is switched off here)."""
    async with office(synapse, user_factory, tmp_path) as o:
        async def unaware(response: object) -> None:
            return None

        o.bot._replace_left_staff_rooms = unaware  # type: ignore[method-assign]
        lost = await o.counsellor.accept_invite(within=60)
        await synapse.admin.delete_room_and_wait(lost)
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.send(room, CRISIS)

        replaced = await new_staff_room(o.counsellor, lost)
        await o.counsellor.wait_for(replaced, o.bot_user, "KRISENHINWEIS", within=60)
        await o.counsellor.wait_for(replaced, o.bot_user, "ersetzt", within=60)


async def test_an_office_staff_room_deleted_is_replaced_and_its_alert_arrives(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    anna = await login(synapse, user_factory, tmp_path, "anna")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    process.settings = replace(
        process.settings, routing=RoutingSettings(fallback_office="familie"),
        offices=(OfficeSettings(id="familie", name="Familienberatung", topics=("family",),
                                postcodes=("89",), counsellors=(anna.client.user_id,)),))
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        joined = {await anna.accept_invite(within=60), await anna.accept_invite(within=60)}
        lost = await bot.office_rooms.room_of("familie")
        assert lost in joined
        await synapse.admin.delete_room_and_wait(lost)

        replaced = await new_staff_room(anna, lost)  # type: ignore[arg-type]
        await anna.wait_for(replaced, process.user_id, "ersetzt", within=60)
        assert await bot.office_rooms.room_of("familie") == replaced
        room = await youth.open_chat(process.user_id)
        await youth.send(room, "Stress mit meinen Eltern, 89073")
        await youth.send(room, CRISIS)
        await anna.wait_for(replaced, process.user_id, "KRISENHINWEIS", within=60)
    finally:
        await youth.close()
        await anna.close()
        await process.stop()


async def test_an_office_alert_waits_while_the_homeserver_refuses_the_new_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The office's room is lost and the homeserver refuses a new one for a while (its
    rate limit, a proxy's error page): the crisis alert waits for the new room. It was
    refused five times, given up, and never reached the office's staff."""
    # The worker wakes every second, not every five: the refusals run out in a fifth of
    # the time (the test took 35 s).
    monkeypatch.setattr(outbox_worker, "IDLE_SECONDS", 1.0)
    anna = await login(synapse, user_factory, tmp_path, "anna")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    process.settings = replace(
        process.settings, routing=RoutingSettings(fallback_office="familie"),
        offices=(OfficeSettings(id="familie", name="Familienberatung", topics=("family",),
                                postcodes=("89",), counsellors=(anna.client.user_id,)),))
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        joined = {await anna.accept_invite(within=60), await anna.accept_invite(within=60)}
        lost = await bot.office_rooms.room_of("familie")
        assert lost in joined
        create = bot.client.room_create
        loop = asyncio.get_running_loop()
        refused_until = math.inf
        refusals = 0

        async def refused_for_a_while(*args: Any, **kwargs: Any) -> Any:
            nonlocal refusals
            if loop.time() < refused_until:
                refusals += 1
                return RoomCreateError("too many rooms for now", "M_LIMIT_EXCEEDED")
            return await create(*args, **kwargs)

        bot.client.room_create = refused_for_a_while  # type: ignore[method-assign]
        await synapse.admin.delete_room_and_wait(lost)
        room = await youth.open_chat(process.user_id)
        await youth.send(room, "Stress mit meinen Eltern, 89073")
        await youth.send(room, CRISIS)
        # Long enough for the alert's refusals to run out (one try per wake-up, at least
        # every IDLE_SECONDS), had it been counted as refused.
        refused_until = loop.time() + (MAX_ATTEMPTS + 1) * outbox_worker.IDLE_SECONDS

        replaced = await new_staff_room(anna, lost)  # type: ignore[arg-type]
        assert refusals > MAX_ATTEMPTS
        await anna.wait_for(replaced, process.user_id, "KRISENHINWEIS", within=60)
    finally:
        await youth.close()
        await anna.close()
        await process.stop()


async def lead_blocks_invitations_and_the_room_is_lost(synapse: SynapseHandle,
                                                      o: Office) -> str:
    """The team lead's app blocks invitations, the staff room is lost, and a youth writes
    crisis words: the replacement room, once the alert is in it."""
    assert o.lead is not None
    lost = await o.counsellor.accept_invite(within=60)
    await o.lead.accept_invite(within=60)
    await block_invitations(synapse, o.lead)
    await synapse.admin.delete_room_and_wait(lost)
    room = await o.youth.open_chat(o.bot_user)
    await o.youth.send(room, CRISIS)
    replaced = await new_staff_room(o.counsellor, lost)
    await o.counsellor.wait_for(replaced, o.bot_user, "KRISENHINWEIS", within=60)
    return replaced


async def test_a_staff_member_who_blocks_invitations_leaves_the_alert_a_new_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A team lead whose app blocks invitations (Element's setting, the account's
    m.invite_permission_config): Synapse makes the staff room, with the bot in it and the
    staff before the lead invited, then refuses the lead's invitation and so the whole
    request. The bot took it as "refused, no room", and made another at every try of the
    alert (each outbox wake-up), for good: a new room and invitation for the counsellor
    every few seconds, and the alert in none of them."""
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        replaced = await lead_blocks_invitations_and_the_room_is_lost(synapse, o)
        assert await o.bot.staff_room() == replaced
        # One new room, not one per try.
        assert o.counsellor.invited_to() - {replaced} == set()
        assert len((await o.bot.client.joined_rooms()).rooms) <= 3  # staff room, youth's


async def test_the_staff_learn_of_a_team_lead_the_new_staff_room_could_not_invite(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The staff room is made with the bot alone and the staff invited one by one; the team
    lead whose app blocks invitations is refused. A log line was all that said so: the lead
    never read a crisis alert nor a lead page there, and nobody knew to ask her to allow
    invitations. The room itself says who is missing."""
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        replaced = await lead_blocks_invitations_and_the_room_is_lost(synapse, o)
        assert o.lead is not None
        await o.counsellor.wait_for(replaced, o.bot_user, o.lead.client.user_id, within=60)
