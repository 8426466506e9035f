"""`counsel stats`: parse the exposition with the stock parser, print the dashboard's figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.today import DayCount
from counsel_bot.metrics import CounselMetrics
from counsel_bot.stats import StatsError, format_stats, parse_stats
from counsel_bot.web.pages import median_wait
from tests.metrics.test_metrics import NICKNAMES, busy_router

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DASHBOARD_JS = (Path(__file__).resolve().parents[2] / "counsel_bot" / "web" / "static"
                / "dashboard.js")


def filled_metrics(*, label: bool = True) -> CounselMetrics:
    metrics = CounselMetrics(FakeClock(T0), counsellor_label=label)
    metrics.refresh_from_snapshot(busy_router(T0).snapshot(), NICKNAMES, T0 + timedelta(minutes=10))
    for _ in range(3):
        metrics.opened("chat")
    metrics.closed("chat")
    metrics.crisis_flagged("suicide", "high", "rule")
    metrics.crisis_reviewed("suicide", "confirmed", "rule")
    metrics.crisis_reviewed("suicide", "dismissed", "model")
    metrics.crisis_reviewed("abuse", "dismissed", "model")
    metrics.assigned(timedelta(minutes=7))
    metrics.escalated()
    metrics.mail_deadline_breached()
    metrics.feedback(5)
    metrics.feedback(5)
    metrics.count_today(DayCount(opened=3, closed=1, crisis_flags=1, deadline_breaches=1,
                                 waits=(420.0,)))
    return metrics


def test_parse_reads_the_figures() -> None:
    stats = parse_stats(filled_metrics().render().decode())
    assert stats.queue_length == 1
    assert stats.queue[("crisis", "chat")] == 1
    assert stats.longest_wait_seconds["crisis"] == 360
    assert stats.on_duty == 2
    assert stats.open_by_counsellor == {"anna": 2, "ben": 2}
    assert stats.open_flags["high"] == 1
    assert (stats.today.opened, stats.today.closed, stats.today.crisis_flags) == (3, 1, 1)
    assert stats.today.median_wait_seconds == 420
    assert stats.today.deadline_breaches == 1
    assert stats.escalations == 1
    assert stats.crisis_reviews["confirmed"] == 1
    assert stats.crisis_reviews["dismissed"] == 2
    assert stats.crisis_reviews_by_source[("model", "dismissed")] == 2
    assert stats.crisis_reviews_by_source[("rule", "confirmed")] == 1
    assert stats.feedback[5] == 2


def test_parse_without_counsellor_label() -> None:
    stats = parse_stats(filled_metrics(label=False).render().decode())
    assert stats.open_by_counsellor == {"all": 4}


def test_format_prints_a_table() -> None:
    text = format_stats(parse_stats(filled_metrics().render().decode()))
    print(text)
    assert "Waiting" in text
    assert "1: crisis 1 (chat 1, mail 0)" in text
    assert "Longest wait" in text
    assert "crisis 6 min" in text
    assert "Staff on duty" in text
    assert "2 (free slots 0)" in text
    assert "anna" in text
    assert "ben" in text
    assert "Median wait" in text
    assert "7 min" in text
    assert "Mail deadlines missed" in text
    assert "5: 2" in text
    # An office's own precision per source: what its professionals need to decide what a
    # flag the model raised alone should send the youth.
    lines = {line.strip().split("  ")[0]: line for line in text.splitlines()
             if line.startswith("    ")}
    assert "confirmed 1, dismissed 0" in lines["raised by a rule"]
    assert "confirmed 0, dismissed 2" in lines["raised by the model alone"]
    assert "source not kept" not in lines


@pytest.mark.parametrize("text", ["", "# nothing here\n", "node_load1 0.5\n", "{{{ not prom"])
def test_text_without_counsel_metrics_is_an_error(text: str) -> None:
    with pytest.raises(StatsError):
        parse_stats(text)


@pytest.mark.parametrize(("waits", "shown"),
                         [((), "none yet"), ((0.0,), "0 s"), ((20.0, 40.0), "30 s")])
def test_stats_and_the_dashboard_say_the_same_median(waits: tuple[float, ...],
                                                     shown: str) -> None:
    """An outside test saw "Median wait none" in `counsel stats` and "0 s" on the dashboard
    for the same day: the gauge's 0 was read as "no sample". Nobody assigned yet and
    youths taken at once are told apart, in the same words."""
    metrics = CounselMetrics(FakeClock(T0))
    metrics.count_today(DayCount(waits=waits))
    stats = parse_stats(metrics.render().decode())
    assert stats.today.median_wait_seconds == metrics.today().median_wait_seconds
    (line,) = [row for row in format_stats(stats).splitlines() if "Median wait" in row]
    assert line.split("Median wait", 1)[1].strip() == shown
    assert median_wait(metrics.today().median_wait_seconds) == shown  # the dashboard page
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the dashboard script's own words are unchecked")
    script = DASHBOARD_JS.read_text(encoding="utf-8")
    functions = "\n".join(re.search(rf"  function {name}\(.*?\n  }}\n", script, re.S)[0]
                          for name in ("duration", "medianWait"))
    median = metrics.today().median_wait_seconds
    run = subprocess.run(
        [node, "-e", f"{functions}\nprocess.stdout.write(medianWait({json.dumps(median)}));"],
        capture_output=True, text=True, check=True, timeout=30)
    assert run.stdout == shown


def test_a_bot_without_the_assigned_count_reads_a_zero_median_as_none() -> None:
    """`counsel stats` against a bot from before counsel_today_assigned: 0 meant none."""
    metrics = CounselMetrics(FakeClock(T0))
    text = "".join(line for line in metrics.render().decode().splitlines(keepends=True)
                   if "counsel_today_assigned" not in line)
    assert parse_stats(text).today.median_wait_seconds is None
