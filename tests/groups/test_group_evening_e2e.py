"""Issue 17 end to end on real Synapse: a whole group evening and a forum post.

Three youths: one on Element's own crypto stack (matrix-js-sdk + Rust crypto, in its default
mode: the other members are nio devices nobody cross-signed, which strict mode would refuse),
two on matrix-nio. The host and a team lead are nio counsellors. The clock is injected: the
group opens and its room is purged when the test moves it, not after a wait.
"""

from __future__ import annotations

import logging
import re
import secrets
import statistics
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nio import RoomSendError

from counsel_bot.conversation.forum import ForumTopic
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID, UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import CRISIS, join, nickname_in, setting, signed_up
from tests.support.bot_harness import LogCollector, NioYouth, login, provision_bot, until
from tests.support.js_client import open_js_client

pytestmark = pytest.mark.integration



@pytest.fixture
def logs() -> Iterator[LogCollector]:
    collector = LogCollector()
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    root.setLevel(old)


async def test_a_group_evening_and_a_forum_post(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, logs: LogCollector
) -> None:
    canary = f"GRUPPENKANARIE-{secrets.token_hex(6)}"
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  team_leads=[lead.client.user_id], clock=clock)
    process.settings = replace(process.settings,
                               forum=(ForumTopic("schule", "Schule und Prüfungen"),))
    bot = await process.start()
    bot.executor.admin = synapse.admin  # what the runner wires from the admin token file
    bot_id = process.user_id
    closing: list[NioYouth] = [host, lead]
    try:
        staff_room = await setting(process, "staff_room")
        forum_room = await setting(process, "forum_room:schule")
        await join(host, staff_room)
        await join(lead, staff_room)

        # Announce: 18:00 in Berlin is 17:00 UTC.
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        await host.send(staff_room, '!group new "Alt" 2026-12-09 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "schon vorbei")

        # Three youths sign up in their own rooms: one on Element's stack, two on nio.
        async with open_js_client() as element:
            element_user = await user_factory("youth-element")
            await element.login(synapse.base_url, element_user.user_id, element_user.password,
                                strict=False)
            await element.start()
            element_home = await element.create_dm(UserID(bot_id))
            await element.wait_for_message(element_home, sender=UserID(bot_id),
                                           contains="anonym", within=30)
            await element.send(element_home, "gruppe")
            listing = await element.wait_for_message(element_home, sender=UserID(bot_id),
                                                     contains="Prüfungsangst", within=30)
            assert "gruppe 1" in listing.body
            await element.send(element_home, "gruppe 1")
            signed = await element.wait_for_message(element_home, sender=UserID(bot_id),
                                                    contains="Du bist dabei", within=30)
            nick_element = nickname_in(signed.body)

            nio = [await signed_up(synapse, user_factory, tmp_path, bot_id, name, closing)
                   for name in ("youth-b", "youth-c")]
            (b, b_home, nick_b), (c, c_home, nick_c) = nio
            assert len({nick_element, nick_b, nick_c}) == 3
            # Signing up opened no 1:1 conversation: nobody was queued for counselling.
            assert await bot.store.conversation_by_room(RoomID(b_home)) is None

            # Start time: the room opens, everyone is invited under the nickname.
            clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
            group_room = await setting(process, "group_room:1")
            await b.wait_for(b_home, bot_id, "Gruppe 1 beginnt")
            everyone = {b.client.user_id, c.client.user_id, element_user.user_id}
            events: list[dict[str, Any]] = []

            async def all_invited() -> bool:
                nonlocal events
                state = await synapse.admin.request(
                    "GET", f"/_synapse/admin/v1/rooms/{quote(group_room)}/state")
                events = state["state"]
                return everyone <= {e["state_key"] for e in events
                                    if e["type"] == "m.room.member"}

            await until(all_invited, what="all three youths invited")
            invited = {e["state_key"]: e["content"].get("displayname") for e in events
                       if e["type"] == "m.room.member"
                       and e["content"].get("membership") == "invite"}
            assert invited[b.client.user_id] == nick_b
            assert invited[element_user.user_id] == nick_element
            [create] = [e for e in events if e["type"] == "m.room.create"]
            assert any(e["type"] == "m.room.encryption" for e in events)
            [levels] = [e for e in events if e["type"] == "m.room.power_levels"]
            assert levels["content"]["invite"] == levels["content"]["kick"] == 100
            assert create["sender"] == bot_id
            assert await element.wait_for_invite(within=30) == RoomID(group_room)
            await join(b, group_room)
            await join(c, group_room)
            await join(host, group_room)

            # Messages flow, decryptably, between Element and nio members.
            await b.send(group_room, f"hallo zusammen {canary}")
            got = await element.wait_for_message(RoomID(group_room),
                                                 sender=UserID(b.client.user_id),
                                                 contains=canary, within=30)
            assert canary in got.body
            await c.wait_for(group_room, b.client.user_id, canary)
            await host.wait_for(group_room, b.client.user_id, canary)
            await element.send(RoomID(group_room), f"mir geht es auch so {canary}")
            await b.wait_for(group_room, element_user.user_id, "mir geht es auch so")
            await host.send(group_room, "Schön, dass ihr da seid.")
            await element.wait_for_message(RoomID(group_room), sender=UserID(host.client.user_id),
                                           contains="Schön", within=30)

            # Round trips in the group (host → Element youth), for the figure in the report.
            trips = []
            for i in range(5):
                started = time.monotonic()
                await host.send(group_room, f"runde {i}")
                await element.wait_for_message(RoomID(group_room),
                                               sender=UserID(host.client.user_id),
                                               contains=f"runde {i}", within=30)
                trips.append(time.monotonic() - started)
            print(f"group message host → Element youth p50 "
                  f"{statistics.median(trips) * 1000:.0f} ms")

            # Youth C is muted first: the server refuses what C sends.
            await host.send(group_room, f"!mute {nick_c}")
            # Confirmed to the host in the staff room: the group does not read who was muted.
            await host.wait_for(staff_room, bot_id, f"{nick_c} kann jetzt nicht mehr schreiben")

            async def c_muted() -> bool:
                answer = await c.client.room_send(
                    group_room, "m.room.message", {"msgtype": "m.text", "body": "still here?"},
                    ignore_unverified_devices=True)
                return isinstance(answer, RoomSendError)

            await until(c_muted, what="the server to refuse a muted youth")

            # The host removes youth C (refusals for others: tests/groups/test_group_desk.py).
            await host.send(group_room, f"!remove {nick_c}")
            await host.wait_for(staff_room, bot_id, f"{nick_c} ist nicht mehr in der Gruppe")

            async def c_gone() -> bool:
                return c.client.user_id not in await synapse.admin.room_members(group_room)

            await until(c_gone, what="youth C to be removed")
            await c.wait_for(c_home, bot_id, "nicht mehr in Gruppe 1")
            await c.send(c_home, "gruppe 1")
            await c.wait_for(c_home, bot_id, "nicht mehr mitmachen")

            # Youth B has left their own room: the offer comes in a new one the bot opens.
            await b.client.room_leave(b_home)

            async def b_left() -> bool:
                return b.client.user_id not in await synapse.admin.room_members(b_home)

            await until(b_left, what="B to leave their room")
            # A crisis message, as a /me (read like any text): staff get group and
            # nickname, the youth a private offer.
            await b.send(group_room, CRISIS, msgtype="m.emote")
            alert = await lead.wait_for(staff_room, bot_id, "Krisenhinweis in Gruppe 1")
            assert nick_b in alert
            assert host.client.user_id in alert
            assert lead.client.user_id in alert  # the host moderates on; a lead takes the 1:1
            assert CRISIS not in alert
            assert b.client.user_id not in alert
            b_home = str(await b.accept_invite())
            await b.wait_for(b_home, bot_id, "allein mit jemandem reden")
            group_notices = (await element.messages(RoomID(group_room))).bodies
            assert not any("reden" in body and nick_b in body for body in group_notices)
            # (The host's own "!mute"/"!remove" stay in the room: the bot does not add to it.)
            assert not any(nick_c in body and not body.startswith("!")
                           for body in group_notices), "the group read who was muted"

            # The host ends it: everyone is removed; at the next tick the room is purged.
            await host.send(group_room, "!end")
            await element.wait_for_message(RoomID(group_room), sender=UserID(bot_id),
                                           contains="zu Ende", within=30)

            async def only_bot_left() -> bool:
                return await synapse.admin.room_members(group_room) in ([bot_id], [])

            await until(only_bot_left, what="everyone removed from the group room")
            clock.advance(timedelta(minutes=1))

            async def purged() -> bool:
                return not await synapse.admin.room_exists(group_room)

            await until(purged, within=60, what="the group room to be purged")

        # The forum: a post waits, is approved, appears under a nickname, is answered.
        await b.send(b_home, "forum schule Wie lernt ihr für Mathe? Ich schaffe das nie.")
        await b.wait_for(b_home, bot_id, "wartet jetzt auf die Freigabe")
        new = await host.wait_for(staff_room, bot_id, "Neuer Forum-Beitrag")
        post = re.search(r"P-[0-9A-F]{8}", new)
        assert post
        assert "Mathe" not in new
        await host.send(staff_room, "!forum pending")
        pending = await host.wait_for(staff_room, bot_id, "Wartende Forum-Beiträge")
        assert "Wie lernt ihr für Mathe?" in pending
        await host.send(staff_room, f"!forum approve {post[0]}")
        await host.wait_for(staff_room, bot_id, "ist freigegeben")
        await b.wait_for(b_home, bot_id, "jetzt im Forum")
        await join(b, forum_room)
        await join(host, forum_room)
        shown = await host.wait_for(forum_room, bot_id, "Wie lernt ihr für Mathe?")
        assert b.client.user_id not in shown
        await host.send(forum_room, "Kleine Schritte, jeden Tag 20 Minuten!")
        await b.wait_for(forum_room, host.client.user_id, "Kleine Schritte")

        # Canary: nothing a youth wrote in the group is at rest in the bot's files or logs.
        data_dir = tmp_path / "bot"
        found = [str(p) for p in data_dir.rglob("*")
                 if p.is_file() and canary.encode() in p.read_bytes()]
        assert found == []
        assert not [line for line in logs.lines if canary in line or CRISIS in line]
        # The test's own nio clients log their ids; the bot's loggers must not.
        ours = [line for line in logs.lines if line.startswith(("counsel_bot", "e2e."))]
        assert not [line for line in ours if b.client.user_id in line or group_room in line]
    finally:
        await process.stop()
        for client in closing:
            await client.close()
