"""The dashboard with several offices: README "Offices" promises that it shows a team lead
only their offices. That holds for every figure on it, not only the tables:

- "Waiting past the reply target" counts the conversations the lead sees, not every office's.
- "Today" (opened, closed, crisis flags, median wait, deadlines missed) is tallied for the
  whole installation only (core/today.py keeps no office), so a lead of some offices is not
  shown it at all (`today` is null, the page says why); a lead of every office sees it.
"""

from __future__ import annotations

import contextlib
import copy
import socket
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import UserID
from counsel_bot.metrics import CounselMetrics
from counsel_bot.runtime import runner
from counsel_bot.runtime.offices import office_rules
from counsel_bot.runtime.runner import policy_from, start_team_lead_view
from counsel_bot.store import MemoryStore
from counsel_bot.web.router_source import RouterDashboardSource
from tests.offices.test_office_conversation import BEN, CONFIG, IDA, LEA, T0, open_youth, staff_says
from tests.store.conftest import AeadSealer
from tests.web.fakes import FakeAuth

PASSWORD = "lea's password"
OLA = UserID("@ola:x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _schule_busy(config: dict[str, Any], clock: FakeClock,
                       metrics: CounselMetrics | None = None) -> Conductor:
    """Only schule takes youths in today, one in crisis; both wait past the reply target."""
    settings = settings_from_mapping(config)
    conductor = await Conductor.open(
        MemoryStore(AeadSealer()), CrisisDetector.from_directory(default_lexicon_dir()),
        policy_from(settings), T0, metrics=metrics)
    await conductor.sync_roster(T0)
    await staff_says(conductor, BEN, "!duty on")
    await open_youth(conductor, "!s1:x", "Mobbing in der Schule")
    await open_youth(conductor, "!s2:x", "Mobbing in der Schule, ich will mich umbringen")
    clock.advance(timedelta(minutes=20))
    return conductor


async def _dashboard_of_busy_schule(config: dict[str, Any]) -> RouterDashboardSource:
    """The dashboard's source as the runner wires it, over `_schule_busy`."""
    clock = FakeClock(T0)
    metrics = CounselMetrics(clock)
    conductor = await _schule_busy(config, clock, metrics)
    return RouterDashboardSource(
        lambda: conductor.router.snapshot(), clock, nickname=lambda _user: None,
        today=metrics.today,
        overdue=lambda state: conductor.overdue_replies(clock.now(), state),
        offices=office_rules(settings_from_mapping(config)))


async def test_a_lead_sees_only_their_own_offices_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the runner's own wiring (`start_team_lead_view`), only the Matrix password
    check faked: Lea (familie) learns nothing of how many youths schule took in today, how
    many were in crisis, or how many of schule's youths wait past the target."""
    port = _free_port()
    settings = settings_from_mapping({**CONFIG, "web": {"port": port}})
    clock = FakeClock(T0)
    metrics = CounselMetrics(clock)
    conductor = await _schule_busy(CONFIG, clock, metrics)
    assert metrics.today().opened == 2  # the installation's tally has them

    monkeypatch.setattr(runner, "MatrixPasswordAuth",
                        lambda *_args: FakeAuth({str(LEA): PASSWORD}))
    async with contextlib.AsyncExitStack() as stack:
        web_runner = await start_team_lead_view(settings, conductor, metrics, clock, stack)
        assert web_runner is not None
        stack.push_async_callback(web_runner.cleanup)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            base = f"http://127.0.0.1:{port}"
            signed_in = await browser.post(f"{base}/login",
                                           data={"user_id": str(LEA), "password": PASSWORD},
                                           headers={"Origin": base})
            assert signed_in.status == 200
            data: dict[str, Any] = await (await browser.get(f"{base}/dashboard/data")).json()
            page = await (await browser.get(f"{base}/dashboard")).text()

    assert data["queue"] == []
    assert data["crisis"] == []
    assert data["staff"] == []  # ben works for schule
    assert (data["today"], data["overdue_replies"]) == (None, 0), "lea sees schule's figures"
    assert "not shown to the team lead of some offices" in page


async def test_a_lead_counts_their_own_offices_overdue_and_a_lead_of_all_sees_the_day() -> None:
    """Ola leads schule: schule's two late youths are hers. Ida leads every office: the
    whole installation is hers to see, "Today" included."""
    config = copy.deepcopy(CONFIG)
    offices = {o["id"]: o for o in config["offices"]}
    offices["schule"]["team_leads"] = [OLA]
    for office in offices.values():  # Ida leads every office
        office["team_leads"] = [*office.get("team_leads", []), IDA]
    source = await _dashboard_of_busy_schule(config)

    ola, lea, ida = [await source.snapshot_for(u) for u in (OLA, LEA, IDA)]
    assert (ola.overdue_replies, lea.overdue_replies, ida.overdue_replies) == (2, 0, 2)
    assert ola.today is None
    assert lea.today is None
    assert ida.today is not None
    assert ida.today.opened == 2


async def test_a_lead_who_also_counsels_elsewhere_sees_only_the_offices_they_lead() -> None:
    """Lea leads familie and helps out as a counsellor in schule and jugend. In those two she
    is a counsellor like the others (core/routing/offices.py rule 7), and a counsellor has no
    dashboard: schule's queue, crisis flags and staff, and the whole installation's "Today",
    are not hers to see there."""
    config = copy.deepcopy(CONFIG)
    for office in config["offices"]:
        if office["id"] != "familie":
            office["counsellors"] = [*office["counsellors"], LEA]
    source = await _dashboard_of_busy_schule(config)

    lea = await source.snapshot_for(LEA)
    assert lea.queue == (), "lea sees schule's queue"
    assert lea.crisis == (), "lea sees schule's crisis flag"
    assert lea.staff == (), "lea sees schule's staff"
    assert lea.today is None, "lea sees every office's figures of the day"


async def test_a_counsellor_of_two_offices_shows_her_whole_load_to_either_lead() -> None:
    """Ben counsels for schule and familie; both his youths today are schule's, and he is
    at his capacity. Lea (familie) saw him with a load of 0 of 2, as if free to take a
    familie youth in crisis at once: the load counted only the conversations she may see.
    How many a counsellor has is his, whichever office they are from (a count, no ids)."""
    config = copy.deepcopy(CONFIG)
    offices = {o["id"]: o for o in config["offices"]}
    offices["familie"]["counsellors"] = [*offices["familie"]["counsellors"], BEN]
    source = await _dashboard_of_busy_schule(config)

    lea = await source.snapshot_for(LEA)
    [ben] = lea.staff
    assert (ben.load, ben.capacity) == (2, 2), "lea sees ben free while he is full"
    assert lea.queue == (), "lea sees schule's queue"
    assert lea.crisis == (), "lea sees schule's crisis flag"
