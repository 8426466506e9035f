"""A youth who presses their app's "Report" on a message ("er droht mir") expects somebody
to read it. Synapse keeps the report, reason in plain text, and told nobody. The bot now
passes each report on to the staff room (crisis words in the reason call the leads) and
deletes it from the homeserver."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from nio import RoomSendResponse

from counsel_bot.config import BotSettings, Settings, StaffSettings
from counsel_bot.conversation import offices
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import Assessment, CrisisDetector, default_lexicon_dir
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.reports import pass_on_reports, reports_loop
from counsel_bot.store import StoreBusyError
from homeserver_bridge.admin_api import AdminClient, EventReport
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, LEAD, Parts
from tests.groups.test_group_offices import LEA, TOM, two_offices
from tests.support.bot_harness import counselling, until
from tests.support.matrix_http import MatrixHttp


class Reports:
    """The part of the admin API the bot reads reports with, in memory."""

    def __init__(self, *reports: EventReport) -> None:
        self.held = list(reports)

    async def event_reports(self, limit: int = 100) -> list[EventReport]:
        return self.held[:limit]

    async def delete_event_report(self, report_id: int) -> None:
        self.held = [r for r in self.held if r.report_id != report_id]


def report(n: int, room: str, reason: str) -> EventReport:
    return EventReport(n, room, f"$bad{n}", "@y1:x", reason)


async def notices(p: Parts) -> list[SayToStaff]:
    return [e for e in await p.new() if isinstance(e, SayToStaff) and e.key.startswith(
        "staff_report")]


async def test_a_report_from_a_youths_chat_reaches_the_staff_and_leaves_the_homeserver() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "hallo")
    await p.new()
    held = Reports(report(7, "!home1:x", "der schreibt mir komische sachen"))
    assert await pass_on_reports(held, p.c, p.clock) == 1
    [told] = await notices(p)
    params = dict(told.params)
    assert told.key == "staff_report"
    assert params["reason"] == "der schreibt mir komische sachen"
    record = await p.store.conversation_by_room(RoomID("!home1:x"))
    assert record is not None
    assert record.conversation in str(params["where"])
    assert held.held == []


async def test_crisis_words_in_a_report_call_the_leads() -> None:
    p = Parts()
    await p.start()
    held = Reports(report(8, "!group:x", "der typ will nacktbilder von mir und droht"))
    await pass_on_reports(held, p.c, p.clock)
    [told] = await notices(p)
    assert told.key == "staff_report_crisis"
    assert LEAD in told.mentions


async def test_a_report_is_passed_on_once_even_if_its_deletion_failed() -> None:
    p = Parts()
    await p.start()

    class Undeletable(Reports):
        async def delete_event_report(self, report_id: int) -> None:
            return None

    held = Undeletable(report(9, "!elsewhere:x", "spam"))
    await pass_on_reports(held, p.c, p.clock)
    await pass_on_reports(held, p.c, p.clock)
    assert len(await notices(p)) == 1


@pytest.mark.integration
async def test_on_real_synapse_a_youths_report_reaches_the_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with counselling(synapse, user_factory, tmp_path) as c:
        process, bot, counsellor, youth = c.process, c.bot, c.counsellor, c.youth
        staff_room = await counsellor.accept_invite()
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.wait_for_join(room)
        sent = await youth.client.room_send(room, "m.room.message",
                                            {"msgtype": "m.text", "body": "hallo"},
                                            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)
        status, _ = await MatrixHttp(synapse.http, synapse.base_url,
                                     youth.client.access_token).call(
            "POST", f"/_matrix/client/v3/rooms/{room}/report/{sent.event_id}",
            {"reason": "er droht mir, ich hab angst dass er mich umbringt"})
        assert status == 200

        async def opened() -> bool:
            return await bot.store.conversation_by_room(RoomID(room)) is not None
        await until(opened, what="the chat")
        clock = FakeClock(datetime.now(UTC))
        assert await pass_on_reports(synapse.admin, bot.conductor, clock) == 1
        told = await counsellor.wait_for(staff_room, process.user_id, "IN EINER MELDUNG", within=60)
        assert "umbringt" in told
        assert await synapse.admin.event_reports() == []


async def test_a_busy_database_does_not_end_the_reading_of_reports() -> None:
    """A report is read every half minute for as long as the bot runs: one round that
    fails on the database (busy for a moment) is tried again, as retention's rounds are,
    not the end of every report until the next restart."""
    p = Parts()
    await p.start()
    held = Reports(report(10, "!elsewhere:x", "er droht mir"))
    passed_on = p.c.report_received
    failures = [StoreBusyError("the database stayed locked")]

    async def busy_once(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await passed_on(*args, **kwargs)

    p.c.report_received = busy_once  # type: ignore[method-assign]
    stop = asyncio.Event()
    loop = asyncio.create_task(reports_loop(held, p.c, p.clock, stop, every=0.01))
    try:
        async def deleted() -> bool:
            return held.held == [] or loop.done()
        await until(deleted, what="the report passed on after the busy round", within=5)
        assert not loop.done(), "the reports loop ended on a busy database"
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(loop, return_exceptions=True), 5)
    assert len(await notices(p)) == 1


async def test_a_report_after_the_close_reaches_only_the_conversations_office() -> None:
    """A youth still in the room after the close reports a message of their counsellor:
    the reason goes to that conversation's office, as every notice about it does, not to
    the main staff room where the other offices' staff read it."""
    p = Parts()
    await p.start(settings=two_offices())
    await p.youth(1, "ich hab stress in der schule")
    record = await p.store.conversation_by_room(RoomID("!home1:x"))
    assert record is not None
    office = offices.staff_office(record.conversation, p.c.router, p.c.policy.router.offices,
                                  p.c.policy.offices)
    assert office in ("familie", "schule")
    await p.youth(1, "ende")
    assert p.c.router.conversation(record.conversation) is None
    await p.new()
    held = Reports(report(11, "!home1:x", "der berater war gemein zu mir"))
    await pass_on_reports(held, p.c, p.clock)
    [told] = await notices(p)
    assert told.office == office



class Homeserver(AdminClient):
    """The admin API's answers as Synapse gives them: a report's number, and when it came."""

    def __init__(self) -> None:
        super().__init__("http://synapse.invalid", "token", cast(aiohttp.ClientSession, None))
        self.held: list[dict[str, Any]] = []

    async def request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                      *, auth: bool = True) -> dict[str, Any]:
        if method == "GET":
            return {"event_reports": list(self.held), "total": len(self.held)}
        number = int(path.rsplit("/", 1)[1])
        self.held = [r for r in self.held if r["id"] != number]
        return {}


def synapse_report(n: int, event: str, reason: str, received_ts: int) -> dict[str, Any]:
    return {"id": n, "received_ts": received_ts, "room_id": "!elsewhere:x",
            "event_id": event, "user_id": "@y1:x", "reason": reason, "score": None,
            "sender": "@z:x", "name": None, "canonical_alias": None}


async def test_a_report_numbered_again_after_the_homeserver_restarted_is_passed_on() -> None:
    """Synapse numbers reports on from the highest one it holds when it starts; the bot
    deletes every report it passed on, so after a restart (the embedded homeserver restarts
    with the service) the next report gets the number an earlier one had. It is another
    report, and must reach the staff, not be taken for the earlier one and deleted unread."""
    p = Parts()
    await p.start()
    synapse = Homeserver()
    synapse.held = [synapse_report(2, "$spam", "spam", 1_000)]
    await pass_on_reports(synapse, p.c, p.clock)
    assert len(await notices(p)) == 1
    synapse.held = [synapse_report(2, "$threat", "er droht mir", 90_000)]
    await pass_on_reports(synapse, p.c, p.clock)
    told = await notices(p)
    assert [dict(t.params)["reason"] for t in told] == ["er droht mir"]
    assert synapse.held == []


class FailsOn:
    """The rules, except that judging ``words`` fails (a model that breaks on one text
    breaks on it every time)."""

    def __init__(self, words: str) -> None:
        self._rules = CrisisDetector.from_directory(default_lexicon_dir())
        self._words = words

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        if any(self._words in t for t in texts):
            raise RuntimeError("the model failed")
        return self._rules.assess_many(texts)


async def test_a_reason_the_crisis_check_fails_on_holds_back_no_other_report() -> None:
    """Reports are read oldest first: one whose reason the check cannot judge must not
    keep every later report from the staff, and it reaches them too, the leads called,
    as its words may be a crisis."""
    p = Parts()
    await p.start(FailsOn("ⱦ"))
    held = Reports(report(12, "!elsewhere:x", "ⱦⱦⱦ hilfe"),
                   report(13, "!elsewhere:x", "der typ droht mir"))
    for _ in range(2):
        with contextlib.suppress(RuntimeError):
            await pass_on_reports(held, p.c, p.clock)
    told = await notices(p)
    assert [dict(t.params)["reason"] for t in told] == ["ⱦⱦⱦ hilfe", "der typ droht mir"]
    assert told[0].key == "staff_report_crisis"
    assert LEAD in told[0].mentions
    assert held.held == []


async def test_a_report_from_a_group_room_reaches_the_groups_office_and_its_leads() -> None:
    """A youth in one office's group reports another's message ("er droht mir"): the
    reason went to the main staff room, read by every office, and its crisis words called
    every office's leads, as if nobody knew whose group it was."""
    p = Parts()
    await p.start(settings=two_offices())
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    held = Reports(report(12, GROUP_ROOM, "der typ droht mir, ich will nicht mehr leben"))
    await pass_on_reports(held, p.c, p.clock)
    [told] = await notices(p)
    assert told.key == "staff_report_crisis"
    assert told.office == "familie", "a group's report was told to every office"
    assert TOM not in told.mentions, "another office's lead was called"


async def test_a_report_from_a_group_room_names_the_place_in_the_staff_rooms_language(
) -> None:
    p = Parts()
    await p.start(settings=Settings(bot=BotSettings(default_language="en"),
                                    staff=StaffSettings(counsellors=(ANNA,))))
    await p.staff(ANNA, '!group new "Exam stress" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await pass_on_reports(Reports(report(13, GROUP_ROOM, "he is mean")), p.c, p.clock)
    [told] = await notices(p)
    where = str(dict(told.params)["where"])
    assert "Gruppe" not in where, f"an English staff room read {where!r}"


async def test_crisis_words_in_a_report_do_not_call_only_a_lead_with_no_device() -> None:
    """The group's office's only lead, Lea, has no device left (her account was closed): a
    report with crisis words called her alone, and rang nobody's phone."""
    p = Parts()
    await p.start(settings=two_offices())
    await p.c.devices_checked(DeviceTrustCheck(LEA, False, (), devices=0), p.clock.now())
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    held = Reports(report(13, GROUP_ROOM, "der typ droht mir, ich will nicht mehr leben"))
    await pass_on_reports(held, p.c, p.clock)
    said = [e for e in await p.new() if isinstance(e, SayToStaff)]
    [told] = [e for e in said if e.key.startswith("staff_report")]
    assert told.key == "staff_report_crisis"
    # Tom, of another office, is called in the main room (tests/offices/
    # test_office_main_room_minimum.py: not shown the reason there).
    called = {user for e in said for user in e.mentions}
    assert LEA not in called
    assert TOM in called, "no lead who can be rung was called"
