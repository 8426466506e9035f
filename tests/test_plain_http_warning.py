"""A listener open to the network without TLS is said at the start.

An admin who set `bind_address = "0.0.0.0"` to reach the service from other machines got no
word that Matrix passwords and access tokens (the homeserver), a team lead's password and
session cookie (the dashboard) and the sign-up codes (the entry page) then cross the
network readable; the messages stay end-to-end encrypted, the keys to the accounts do not.
The banner now names each such listener and the setting that ends the warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.runtime.service import Running, banner, plain_http_listeners
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import Account

OPEN = {"homeserver": {"bind_address": "0.0.0.0"}, "web": {"bind_address": "0.0.0.0"},
        "entry_page": {"bind_address": "0.0.0.0"}}


def test_the_default_loopback_listeners_are_no_warning() -> None:
    assert plain_http_listeners(settings_from_mapping({})) == []


def test_each_listener_open_to_the_network_in_plain_http_is_named(tmp_path: Path) -> None:
    settings = settings_from_mapping(OPEN)
    said = plain_http_listeners(settings)
    assert [line.split(" ", 1)[0] for line in said] == ["[homeserver]", "[web]", "[entry_page]"]
    assert "public_base_url" in said[0]
    assert "cookie_secure" in said[1]
    running = Running(settings, DataLayout(tmp_path), cast(Any, None),
                      Account("bot", "@beratung:counsel.localhost", "x", "Beratung"), [])
    shown = banner(running)
    for line in said:
        assert f"Warning: {line}" in shown


@pytest.mark.parametrize(("changed", "left"), [
    # Behind a TLS proxy, as the docs set it up: nothing to say.
    ({"homeserver": {"bind_address": "0.0.0.0", "public_base_url": "https://chat.example.org",
                     "behind_proxy": True}}, "[web]"),
    ({"web": {"bind_address": "0.0.0.0", "cookie_secure": True}}, "[homeserver]"),
    ({"web": {"enabled": False, "bind_address": "0.0.0.0"}}, "[homeserver]"),
    ({"entry_page": {"enabled": False, "bind_address": "0.0.0.0"}}, "[homeserver]"),
    ({"entry_page": {"bind_address": "0.0.0.0", "trusted_proxies": ["10.0.0.1"]}},
     "[homeserver]"),
    # A homeserver of the admin's own: no embedded Synapse listens here.
    ({"homeserver": {"bind_address": "0.0.0.0", "url": "https://matrix.example.org"}},
     "[web]"),
])
def test_a_listener_behind_tls_or_switched_off_is_not_named(
    changed: dict[str, dict[str, object]], left: str,
) -> None:
    data = {key: {**value, **changed.get(key, {})} for key, value in OPEN.items()}
    said = [line.split(" ", 1)[0] for line in plain_http_listeners(settings_from_mapping(data))]
    gone = next(iter(changed))
    assert f"[{gone}]" not in said
    assert left in said
