"""The smallest inputs the fuzzers found that break the service, kept as plain tests so each
finding has a name and fails fast until it is fixed (and stays fixed)."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest

from counsel_bot.config import ConfigError, settings_from_mapping
from counsel_bot.core.ids import EventID
from tests.fuzz.test_conductor import YouthWrote, run, sequential_ids
from tests.fuzz.test_config import check_usable


@pytest.mark.parametrize(
    "data",
    [
        {"homeserver": {"rate_limits": {"messages": {}}}},
        {"homeserver": {"rate_limits": {"messages": {"per_second": 0.0}}}},
        {"homeserver": {"rate_limits": {"logins": {"burst": 3}}}},
    ],
    ids=["empty rate limit", "rate limit without burst", "rate limit without per_second"],
)
def test_an_incomplete_rate_limit_is_a_config_error(data: dict[str, object]) -> None:
    # Today: TypeError from RateLimit(**kwargs); typed_tables._build catches only ValueError.
    with pytest.raises(ConfigError):
        settings_from_mapping(data)


@pytest.mark.parametrize(
    "data",
    [
        {"crisis": {"escalate_after_minutes": float("nan")}},
        {"crisis": {"escalate_after_minutes": float("inf")}},
        {"crisis": {"escalate_after_minutes": 3.8e16}},
        {"bot": {"undecryptable_grace_seconds": float("nan")}},
        {"bot": {"undecryptable_grace_seconds": -3.2e16}},
        {"homeserver": {"rate_limits": {"messages": {"per_second": float("nan"), "burst": 1}}}},
    ],
    ids=["escalate nan", "escalate inf", "escalate huge", "grace nan", "grace huge negative",
         "rate nan"],
)
def test_a_number_the_service_cannot_use_is_a_config_error(data: dict[str, object]) -> None:
    # Today these load, and the bot then dies in policy_from / timedelta (ValueError,
    # OverflowError), or Synapse gets per_second: NaN (a string in YAML).
    try:
        loaded = settings_from_mapping(data)
    except ConfigError:
        return
    check_usable(loaded)


@pytest.mark.parametrize(
    "path", ["\x00", "a\x00b", "\ud800"], ids=["nul", "inner nul", "surrogate"]
)
def test_an_unreadable_secret_path_is_our_error(path: str) -> None:
    # Today: ValueError (embedded null byte) / UnicodeEncodeError from runner._read_secret,
    # which catches only OSError.
    video = {"base_url": "https://meet.example.org", "jitsi_app_id": "counsel",
             "jitsi_app_secret_file": path}
    check_usable(settings_from_mapping({"video": video}))


def run_one(op: YouthWrote) -> None:
    ids = sequential_ids()
    with mock.patch(
        "counsel_bot.conversation.youth_side.new_conversation_id", side_effect=ids.__next__
    ):
        asyncio.run(run([op], auto_assign=True, office_hours=False))


@pytest.mark.parametrize("body", ["ende", "end", "beenden", "End."])
def test_a_youth_whose_first_message_is_end_does_not_crash_the_bot(body: str) -> None:
    # Today: the conversation is opened and closed in one transition, and the store refuses
    # it (StoreConsistencyError: "is new but not in the router snapshot").
    run_one(YouthWrote(0, None, None, body, 0))


@pytest.mark.parametrize("body", ["\ud800", "hallo \udfff", "\udbff\udbff"])
def test_a_lone_surrogate_in_a_body_is_kept_not_fatal(body: str) -> None:
    # JSON "\\ud800" decodes to a lone surrogate; body.encode("utf-8") then raises
    # UnicodeEncodeError in Conductor.youth_wrote.
    run_one(YouthWrote(0, None, None, body, 0))


def test_an_ordinary_first_message_passes_the_same_checks() -> None:
    """The control: the harness behind the two findings above accepts a plain message."""
    run_one(YouthWrote(0, None, EventID("$e0"), "hallo, ich brauche jemanden zum reden", 0))
