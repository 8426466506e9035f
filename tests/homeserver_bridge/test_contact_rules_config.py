"""The contact rules' configuration: what counsel writes, and what Synapse refuses to start
with (the rules themselves on the real server: tests/security/test_youth_contact.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from synapse.api.errors import SynapseError

from counsel_bot.config import settings_from_mapping
from counsel_bot.runtime.service import trusted_accounts
from homeserver_bridge.contact_rules import (
    ContactRules,
    ContactSettings,
    read_trusted,
    write_trusted,
)
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.settings import HomeserverSettings
from homeserver_bridge.synapse_config import render_homeserver_yaml


def test_the_embedded_homeserver_loads_the_rules_with_counsels_list() -> None:
    layout = DataLayout(Path("/d"))
    config = yaml.safe_load(render_homeserver_yaml(HomeserverSettings(), layout))
    [module] = [m for m in config["modules"] if m["module"].endswith(".ContactRules")]
    assert module["module"] == "homeserver_bridge.contact_rules.ContactRules"
    settings = ContactRules.parse_config(module["config"])
    assert settings == ContactSettings(trusted_file=layout.trusted_accounts_file)


def test_the_bot_and_every_office_s_staff_are_trusted_and_nobody_else() -> None:
    server = {"homeserver": {"server_name": "beratung.example.org"},
              "bot": {"localpart": "beratung"}}
    one_office = settings_from_mapping({**server, "staff": {
        "counsellors": ["@anna:beratung.example.org"],
        "team_leads": ["@jonas:beratung.example.org"]}})
    assert set(trusted_accounts(one_office)) == {
        "@beratung:beratung.example.org", "@anna:beratung.example.org",
        "@jonas:beratung.example.org"}
    offices = settings_from_mapping({**server, "offices": [
        {"id": "familie", "name": "Familienberatung", "topics": ["family"],
         "counsellors": ["@lea:beratung.example.org"],
         "team_leads": ["@ben:beratung.example.org"]},
        {"id": "schule", "name": "Schulberatung", "topics": ["school"],
         "counsellors": ["@anna:beratung.example.org"]}]})
    assert set(trusted_accounts(offices)) == {
        "@beratung:beratung.example.org", "@lea:beratung.example.org",
        "@ben:beratung.example.org", "@anna:beratung.example.org"}


def test_the_list_is_written_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "trusted_accounts.json"
    write_trusted(path, ["@b:x", "@a:x", "@a:x"])
    assert path.stat().st_mode & 0o077 == 0
    assert read_trusted(path) == {"@a:x", "@b:x"}
    path.write_text('{"@a:x": true}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"trusted_file .* JSON list"):
        read_trusted(path)


@pytest.mark.parametrize("config", [
    None, {}, {"trusted": []},  # nobody trusted: the bot could invite nobody
    {"trusted": "@beratung:x"}, {"trusted": ["beratung"]}, {"trusted_file": ""},
    {"trusted": ["@beratung:x"], "staff": ["@anna:x"]},
])
def test_a_bad_config_stops_synapse_with_the_key_named(config: dict[str, Any] | None) -> None:
    with pytest.raises(ValueError, match="contact_rules"):
        ContactRules.parse_config(config)


def test_an_external_homeserver_may_list_the_accounts_in_its_own_config() -> None:
    settings = ContactRules.parse_config({"trusted": ["@beratung:x", "@anna:x"]})
    assert settings == ContactSettings(trusted=frozenset({"@beratung:x", "@anna:x"}))


class _Api:
    """What the module asks of Synapse's ModuleApi at start."""

    def register_spam_checker_callbacks(self, **callbacks: object) -> None:
        self.callbacks = callbacks

    def register_third_party_rules_callbacks(self, **callbacks: object) -> None:
        self.rules = callbacks


def test_a_missing_list_stops_synapse_rather_than_lock_out_the_bot(tmp_path: Path) -> None:
    settings = ContactRules.parse_config({"trusted_file": str(tmp_path / "none.json")})
    with pytest.raises(ValueError, match="contact_rules: trusted_file"):
        ContactRules(settings, _Api())  # type: ignore[arg-type]


async def test_the_list_is_read_again_when_counsel_rewrites_it(tmp_path: Path) -> None:
    path = tmp_path / "trusted_accounts.json"
    write_trusted(path, ["@beratung:x"])
    rules = ContactRules(ContactRules.parse_config({"trusted_file": str(path)}),
                         _Api())  # type: ignore[arg-type]
    assert await rules.user_may_invite("@lena:x", "@beratung:x", "!r:x") == "NOT_SPAM"
    assert await rules.user_may_invite("@lena:x", "@tom:x", "!r:x") != "NOT_SPAM"
    write_trusted(path, ["@beratung:x", "@lena:x"])  # lena joined the staff
    assert await rules.user_may_invite("@lena:x", "@tom:x", "!r:x") == "NOT_SPAM"
    path.write_text('["@beratung:x", ', encoding="utf-8")  # half written by hand
    assert await rules.user_may_invite("@lena:x", "@tom:x", "!r:x") == "NOT_SPAM"
    write_trusted(path, ["@beratung:x"])  # and she left it again
    assert await rules.user_may_invite("@lena:x", "@tom:x", "!r:x") != "NOT_SPAM"


class _Member:
    def __init__(self, membership: str) -> None:
        self.content = {"membership": membership}


class _Room(_Api):
    """A room whose members the module may ask Synapse about (ModuleApi.get_room_state)."""

    def __init__(self, members: dict[str, str]) -> None:
        self.members = members
        self.asked: list[list[tuple[str, str | None]]] = []

    async def get_room_state(self, room_id: str, event_filter: list[tuple[str, str | None]],
                             ) -> dict[tuple[str, str], _Member]:
        self.asked.append(list(event_filter))
        return {(kind, key): _Member(self.members[key]) for kind, key in event_filter
                if kind == "m.room.member" and key in self.members}


async def test_staff_are_invited_by_youths_only_where_a_bot_is_joined(tmp_path: Path) -> None:
    path = tmp_path / "trusted_accounts.json"
    write_trusted(path, ["@beratung:x", "@anna:x"], bots=["@beratung:x"])
    assert read_trusted(path) == {"@beratung:x", "@anna:x"}
    room = _Room({"@lena:x": "join", "@beratung:x": "invite"})
    rules = ContactRules(ContactRules.parse_config({"trusted_file": str(path)}),
                         room)  # type: ignore[arg-type]
    assert await rules.user_may_invite("@lena:x", "@beratung:x", "!r:x") == "NOT_SPAM"
    assert await rules.user_may_invite("@lena:x", "@anna:x", "!r:x") != "NOT_SPAM"
    assert room.asked == [[("m.room.member", "@beratung:x")]]  # one read, of the bots only
    room.members["@beratung:x"] = "join"
    assert await rules.user_may_invite("@lena:x", "@anna:x", "!r:x") == "NOT_SPAM"
    # A new room has no bot in it yet: a staff member among its invitees is refused.
    assert await rules.user_may_create_room("@lena:x", {"invite": ["@anna:x"]}) != "NOT_SPAM"
    assert await rules.user_may_create_room("@lena:x", {"invite": ["@beratung:x"]}) == "NOT_SPAM"
    # The staff invite whom they like, wherever.
    assert await rules.user_may_invite("@anna:x", "@lena:x", "!r:x") == "NOT_SPAM"


def test_an_external_homeserver_names_its_bot_in_its_own_config() -> None:
    settings = ContactRules.parse_config({"trusted": ["@anna:x"], "bots": ["@beratung:x"]})
    assert settings == ContactSettings(trusted=frozenset({"@anna:x"}),
                                       bots=frozenset({"@beratung:x"}))
    with pytest.raises(ValueError, match="contact_rules: bots"):
        ContactRules.parse_config({"trusted": ["@anna:x"], "bots": "@beratung:x"})


async def test_a_list_naming_no_bot_lets_staff_be_invited_as_before(tmp_path: Path) -> None:
    """A list written before bots were named (the scale-out's, written once; an admin's
    ``trusted``): nobody can tell the bot, so the rule on staff cannot hold; Synapse says
    so in its log instead of locking youths out of counselling."""
    path = tmp_path / "trusted_accounts.json"
    path.write_text('["@beratung:x", "@anna:x"]', encoding="utf-8")
    room = _Room({})
    rules = ContactRules(ContactRules.parse_config({"trusted_file": str(path)}),
                         room)  # type: ignore[arg-type]
    assert await rules.user_may_invite("@lena:x", "@beratung:x", "!r:x") == "NOT_SPAM"
    assert await rules.user_may_invite("@lena:x", "@anna:x", "!r:x") == "NOT_SPAM"
    assert await rules.user_may_invite("@lena:x", "@tom:x", "!r:x") != "NOT_SPAM"


class _Event:
    def __init__(self, sender: str, state_key: str, membership: str) -> None:
        self.type = "m.room.member"
        self.sender, self.state_key = sender, state_key
        self.content = {"membership": membership}


async def test_an_invitation_is_checked_as_an_event_too(tmp_path: Path) -> None:
    """However Synapse came to make it (a room's initial state, an upgrade copying the old
    room's invitations), an invitation by a youth is held to the rules of /invite."""
    path = tmp_path / "trusted_accounts.json"
    write_trusted(path, ["@beratung:x", "@anna:x"], bots=["@beratung:x"])
    rules = ContactRules(ContactRules.parse_config({"trusted_file": str(path)}),
                         _Room({}))  # type: ignore[arg-type]
    alone: dict[tuple[str, str], Any] = {}
    with_bot = {("m.room.member", "@beratung:x"): _Member("join")}
    assert await rules.check_event_allowed(_Event("@lena:x", "@beratung:x", "invite"),
                                           alone) == (True, None)
    assert await rules.check_event_allowed(_Event("@lena:x", "@anna:x", "invite"),
                                           with_bot) == (True, None)
    assert await rules.check_event_allowed(_Event("@anna:x", "@tom:x", "invite"),
                                           alone) == (True, None)
    for invitee, state in (("@tom:x", with_bot), ("@anna:x", alone)):
        with pytest.raises(SynapseError, match=r"(?i)einladen") as refused:
            await rules.check_event_allowed(_Event("@lena:x", invitee, "invite"), state)
        assert refused.value.code == 403
        assert refused.value.errcode == "M_FORBIDDEN"
