"""A staff room the bot lost (an admin deleted it, or someone removed the bot) is replaced,
and a crisis alert still reaches the staff: before, every staff notice was refused, retried
five times and dropped, the alert with it, and the only trace was a log line.

Real Synapse, real E2E clients; the room is deleted through Synapse's admin API, as an
admin tidying up rooms would."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from counsel_bot.config import OfficeSettings, RoutingSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


async def new_staff_room(staff: NioYouth, lost: str) -> str:
    """The room the bot invites the staff member to next (the lost one no longer counts)."""
    await until(lambda: any(r != lost for r in staff.invited_to()), within=60)
    return await staff.accept_invite(within=60)


async def test_a_deleted_staff_room_is_replaced_and_the_alert_arrives(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  team_leads=[lead.client.user_id])
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        lost = await counsellor.accept_invite(within=60)
        await lead.accept_invite(within=60)
        await synapse.admin.delete_room_and_wait(lost)

        room = await youth.open_chat(process.user_id)
        await youth.send(room, CRISIS)

        for member in (lead, counsellor):
            replaced = await new_staff_room(member, lost)
            assert replaced != lost
            await member.wait_for(replaced, process.user_id, "KRISENHINWEIS", within=60)
            await member.wait_for(replaced, process.user_id, "ersetzt", within=60)
        assert process.bot is not None
        assert await process.bot.staff_room() == replaced
    finally:
        await youth.close()
        await lead.close()
        await counsellor.close()
        await process.stop()


async def test_a_staff_room_deleted_while_the_bot_was_stopped_is_replaced_at_the_start(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        lost = await counsellor.accept_invite(within=60)
        await process.stop()
        await synapse.admin.delete_room_and_wait(lost)
        await process.start()

        replaced = await new_staff_room(counsellor, lost)
        await counsellor.wait_for(replaced, process.user_id, "ersetzt", within=60)
        room = await youth.open_chat(process.user_id)
        await youth.send(room, CRISIS)
        await counsellor.wait_for(replaced, process.user_id, "KRISENHINWEIS", within=60)
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()


async def test_a_refused_alert_finds_the_room_lost_before_the_sync_says_so(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The alert may be sent before the sync that tells the bot it left: the refusal itself
    leads to the check and the new room (the sync's own replacement is switched off here)."""
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")

    async def unaware(response: object) -> None:
        return None

    bot._replace_left_staff_rooms = unaware  # type: ignore[method-assign]
    try:
        lost = await counsellor.accept_invite(within=60)
        await synapse.admin.delete_room_and_wait(lost)
        room = await youth.open_chat(process.user_id)
        await youth.send(room, CRISIS)

        replaced = await new_staff_room(counsellor, lost)
        await counsellor.wait_for(replaced, process.user_id, "KRISENHINWEIS", within=60)
        await counsellor.wait_for(replaced, process.user_id, "ersetzt", within=60)
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()


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
