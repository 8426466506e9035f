"""Issue 16 end to end on real Synapse: three offices, a youth routed by topic and postcode,
and an authorisation matrix: another office's counsellor neither sees nor acts on it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from counsel_bot.config import OfficeSettings, RoutingSettings
from counsel_bot.core.ids import UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, login, provision_bot, until
from tests.support.js_client import open_js_client

pytestmark = pytest.mark.integration

_CID = re.compile(r"C-[0-9A-F]{8}")


def _count(who: NioYouth, room: str, sender: str, text: str) -> int:
    return sum(1 for r, s, b in who.received if r == room and s == sender and text in b)


async def _ask(who: NioYouth, room: str, bot: str, command: str, expect: str) -> str:
    """Send a staff command and return the bot's next reply containing `expect`."""
    before = _count(who, room, bot, expect)
    await who.send(room, command)
    await until(lambda: _count(who, room, bot, expect) > before, what=f"the reply to {command}")
    return [b for r, s, b in who.received if r == room and s == bot and expect in b][-1]


async def test_three_offices_route_by_topic_and_postcode_and_keep_apart(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    anna = await login(synapse, user_factory, tmp_path, "anna")
    ben = await login(synapse, user_factory, tmp_path, "ben")
    cem = await login(synapse, user_factory, tmp_path, "cem")
    staff = [anna, ben, cem]
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    a, b, c = (s.client.user_id for s in staff)
    process.settings = replace(
        process.settings,
        routing=RoutingSettings(fallback_office="jugend", on_call_office="jugend"),
        offices=(
            OfficeSettings(id="familie", name="Familienberatung Ulm", topics=("family",),
                           postcodes=("89",), counsellors=(a,)),
            OfficeSettings(id="schule", name="Schulberatung", topics=("school", "family"),
                           postcodes=("80000-85999",), counsellors=(b,)),
            OfficeSettings(id="jugend", name="Jugendberatung", topics=("general",),
                           counsellors=(c,)),
        ),
    )
    await process.start()
    bot = process.user_id
    youths: list[NioYouth] = []
    try:
        bot_process = process.bot
        assert bot_process is not None
        staff_room = await bot_process.staff_room()
        assert staff_room is not None
        office_rooms = {o: await bot_process.office_rooms.room_of(o)
                        for o in ("familie", "schule", "jugend")}
        family_room = office_rooms["familie"]
        assert family_room is not None
        # Each member is in the main staff room and their office's own (where commands and
        # their replies stay among the office's staff).
        for member, office in ((anna, "familie"), (ben, "schule"), (cem, "jugend")):
            joined = {await member.accept_invite(), await member.accept_invite()}
            assert joined == {staff_room, office_rooms[office]}
        for member in staff:
            await _ask(member, staff_room, bot, "!capacity 1", "Kapazität 1")
            await _ask(member, staff_room, bot, "!duty on", "im Dienst")

        rooms = []
        for text in ("Stress mit meinen Eltern, 89073", "Ärger mit meinem Vater. PLZ 89075"):
            youth = await login(synapse, user_factory, tmp_path, "youth")
            youths.append(youth)
            room = await youth.open_chat(bot)
            rooms.append(room)
            await youth.wait_for(room, bot, "anonym")
            await youth.send(room, text)
            # The bot says which office: the family office serving 89xxx.
            await youth.wait_for(room, bot, "Familienberatung Ulm")

        # Its counsellor is invited (capacity 1: the second youth waits in that office).
        await until(lambda: rooms[0] in anna.invited_to(), what="anna's invitation")
        assert await anna.accept_invite() == rooms[0]
        await youths[1].wait_for(rooms[1], bot, "Platz 1")
        mine = _CID.findall(await _ask(anna, family_room, bot, "!status", "Rolle:"))
        queued = _CID.findall(await _ask(anna, family_room, bot, "!queue", "Warteschlange"))
        assert len(mine) == 1
        assert len(queued) == 1
        assigned, waiting = mine[0], queued[0]

        # The family office's staff room had the notices; no other office's staff saw them.
        await anna.wait_for(office_rooms["familie"], bot, f"{assigned} ist jetzt bei")
        await anna.wait_for(office_rooms["familie"], bot, waiting)
        for other in (ben, cem):
            assert not [body for _r, _s, body in other.received
                        if assigned in body or waiting in body]
        # Another office's counsellor: nothing in !queue or !status ...
        for other in (ben, cem):
            queue = await _ask(other, staff_room, bot, "!queue", "Warteschlange")
            assert "0 wartend" in queue
            assert assigned not in queue
            assert waiting not in queue
            status = await _ask(other, staff_room, bot, "!status", "Rolle:")
            assert assigned not in status
            assert waiting not in status
        # ... and every command on these conversations is refused as unknown.
        for command in (f"!take {waiting}", f"!take {assigned}", f"!close {assigned}",
                        f"!close {waiting}", f"!transfer {assigned} queue",
                        f"!transfer {assigned} {b}", f"!transfer {assigned} office:schule",
                        f"!confirm {assigned}"):
            cid = _CID.findall(command)[0]
            reply = await _ask(ben, staff_room, bot, command, f"{cid} gibt es nicht")
            assert "gibt es nicht" in reply, command
        assert "Niemand wartet" in await _ask(ben, staff_room, bot, "!next", "wartet")
        # Nothing moved: ben was invited nowhere, anna still has hers, the other still waits.
        assert not ben.invited_to() & set(rooms)
        assert not cem.invited_to() & set(rooms)
        assert assigned in await _ask(anna, family_room, bot, "!status", "Rolle:")
        assert waiting in await _ask(anna, family_room, bot, "!queue", "Warteschlange")
        # After a restart the offices, their rooms and the isolation are as they were.
        await process.stop()
        restarted = await process.start()
        assert await restarted.office_rooms.room_of("familie") == family_room
        assert waiting in await _ask(anna, family_room, bot, "!queue", "Warteschlange")
        assert "0 wartend" in await _ask(ben, staff_room, bot, "!queue", "Warteschlange")
        # A transfer to another office is explicit, and the youth is told.
        await _ask(anna, family_room, bot, f"!transfer {waiting} office:schule",
                   "bei der Stelle schule")
        await youths[1].wait_for(rooms[1], bot, "jetzt bei: Schulberatung")
        await until(lambda: rooms[1] in ben.invited_to(), what="ben's invitation")

        # A youth on Element's crypto (strict mode) who starts with "hallo" is asked once
        # and answers with a typed number: the school office, whose counsellor is invited.
        school_room = office_rooms["schule"]
        assert school_room is not None
        await _ask(ben, school_room, bot, "!capacity 2", "Kapazität 2")
        user = await user_factory("strict-youth")
        async with open_js_client() as strict:
            await strict.login(synapse.base_url, user.user_id, user.password, strict=True)
            await strict.start()
            room = await strict.create_dm(UserID(bot))
            await strict.wait_for_message(room, sender=UserID(bot), contains="anonym",
                                          within=30)
            await strict.send(room, "hallo")
            question = await strict.wait_for_message(room, sender=UserID(bot),
                                                     contains="Worum geht es", within=30)
            assert "2. Schule und Ausbildung" in question.body
            await strict.send(room, "2")
            await strict.wait_for_message(room, sender=UserID(bot),
                                          contains="jetzt bei: Schulberatung", within=30)
            await until(lambda: room in ben.invited_to(), what="ben's invitation to it")
            assert room not in anna.invited_to()
    finally:
        await process.stop()
        for client in (*staff, *youths):
            await client.close()
