"""The stop budgets nest: `counsel up` waits for its bot longer than the bot gives itself to
perform what is pending, and systemd waits for `counsel up` longer than the bot and Synapse
together. Before, `counsel up` killed the bot after 20 s while the bot allowed itself 25 s
to drain (a suspicion of the runtime review): a slow drain was cut in the middle, and what
was pending waited for the next start."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from counsel_bot.runtime.runner import STOP_WITHIN_SECONDS
from counsel_bot.runtime.service import BOT_STOP_GRACE
from homeserver_bridge.embedded import EmbeddedSynapse

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "counsel.service"


def test_counsel_up_outwaits_the_bots_drain_and_systemd_outwaits_both() -> None:
    # The bot closes its store and web server after its drain: a few seconds more.
    assert BOT_STOP_GRACE >= STOP_WITHIN_SECONDS + 5
    synapse = inspect.signature(EmbeddedSynapse.stop).parameters["grace_period"].default
    found = re.search(r"^TimeoutStopSec=(\d+)$", UNIT.read_text(encoding="utf-8"), re.M)
    assert found is not None
    assert BOT_STOP_GRACE + synapse < int(found.group(1))
