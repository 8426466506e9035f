"""The rendered homeserver.yaml, checked as data (Synapse parses YAML; so do we)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from homeserver_bridge.paths import DataLayout
from homeserver_bridge.settings import HomeserverSettings, RegistrationPolicy
from homeserver_bridge.synapse_config import render_homeserver_yaml


def rendered(**overrides: Any) -> dict[str, Any]:
    text = render_homeserver_yaml(HomeserverSettings(**overrides), DataLayout(Path("/d")))
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_defaults_are_hardened() -> None:
    config = rendered()
    [listener] = config["listeners"]
    assert listener["bind_addresses"] == ["127.0.0.1"]
    assert [r["names"] for r in listener["resources"]] == [["client"]]
    assert config["federation_domain_whitelist"] == []
    assert config["trusted_key_servers"] == []
    assert config["encryption_enabled_by_default_for_room_type"] == "all"
    assert config["url_preview_enabled"] is False
    assert config["presence"] == {"enabled": False}
    assert config["limit_profile_requests_to_users_who_share_rooms"] is True
    assert config["require_auth_for_profile_requests"] is True
    assert config["user_directory"]["search_all_users"] is False
    assert config["room_list_publication_rules"] == [{"action": "deny"}]
    assert config["allow_guest_access"] is False
    assert config["retention"]["enabled"] is True
    assert config["report_stats"] is False
    assert config["database"]["name"] == "sqlite3"
    # Rate limits are on, with Synapse's careful defaults.
    assert config["rc_message"] == {"per_second": 0.2, "burst_count": 10}
    assert config["rc_registration"]["per_second"] == 0.05
    assert config["rc_login"]["address"]["burst_count"] == 3
    # Secrets are files, never values in the YAML.
    assert "registration_shared_secret" not in config
    assert "macaroon_secret_key" not in config
    # Passwords hashed at Synapse's own work factor (12); only the tests' homeservers lower it.
    assert "bcrypt_rounds" not in config


@pytest.mark.parametrize(
    ("policy", "enabled", "token"),
    [("closed", False, False), ("token", True, True), ("open", True, False)],
)
def test_registration_policy(policy: RegistrationPolicy, enabled: bool, token: bool) -> None:
    config = rendered(registration=policy)
    assert config["enable_registration"] is enabled
    assert config["registration_requires_token"] is token
    assert config["registrations_require_3pid"] == []


def test_hostile_server_name_cannot_inject_yaml() -> None:
    with pytest.raises(ValueError, match="server_name"):
        HomeserverSettings(server_name="x\nfederation_domain_whitelist: null")


def test_retention_lifetime() -> None:
    from homeserver_bridge.settings import Retention

    config = rendered(retention=Retention(enabled=True, max_lifetime_days=30))
    assert config["retention"]["default_policy"] == {"max_lifetime": "30d"}


def test_a_public_url_beyond_ascii_is_rendered_as_given() -> None:
    # An internationalised path; JSON-style quoting wrote 𝄞 as a surrogate pair YAML rejects.
    url = "https://beratung.example.org/jugend-𝄞-ü/"
    assert rendered(public_base_url=url, behind_proxy=True)["public_baseurl"] == url


@pytest.mark.parametrize("url", ["beratung.example.org", "https://a b/", "https://a\x7f/"])
def test_a_public_url_that_is_no_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="public_base_url"):
        HomeserverSettings(public_base_url=url)


def test_one_account_cannot_fill_the_disk_with_uploads() -> None:
    """Each upload may be 20 MB, and nothing capped how many: one anonymous account (a code
    from the entry page) could fill the disk and stop the service for every youth. Read the
    way Synapse itself reads it, so a misspelt value fails here, not at start."""
    from synapse.config._base import Config
    from synapse.config.repository import MediaUploadLimitConfigModel

    entries = rendered()["media_upload_limits"]
    limits = [MediaUploadLimitConfigModel.model_validate(e, strict=True) for e in entries]
    day_ms = 24 * 3600 * 1000
    daily = [limit.max_size for limit in limits if limit.time_period <= day_ms]
    assert daily
    assert max(daily) <= 1024 * 1024 * 1024
    # Enough for what people send in a day: more than the largest single upload.
    assert min(daily) > Config.parse_size(rendered()["max_upload_size"])


def test_an_https_address_in_front_of_a_loopback_synapse_needs_the_proxy_trusted() -> None:
    """Synapse serves no TLS and listens on loopback, so an https:// public address means a
    reverse proxy on this machine: every request then comes from 127.0.0.1. Unless Synapse
    reads X-Forwarded-For (``behind_proxy``), all youths are one address for its login and
    registration limits: on the real Synapse with the default limits, the fourth youth to
    sign up or log in within a few seconds was refused (429), whatever address the proxy
    named, and sign-ups went on at one per 20 s for the whole service. The README's set-up
    (a TLS proxy adding X-Forwarded-For) never names ``behind_proxy``; the configuration was
    accepted without it."""
    with pytest.raises(ValueError, match="behind_proxy"):
        HomeserverSettings(public_base_url="https://beratung.example.org/")
    with pytest.raises(ValueError, match="behind_proxy"):
        HomeserverSettings(bind_address="::1", public_base_url="https://beratung.example.org/")
    trusted = HomeserverSettings(public_base_url="https://beratung.example.org/",
                                 behind_proxy=True)
    assert rendered(public_base_url=trusted.public_base_url,
                    behind_proxy=True)["listeners"][0]["x_forwarded"] is True
    # Plain http on loopback (a local try-out) and a public bind address stay the admin's call.
    HomeserverSettings(public_base_url="http://127.0.0.1:8008/")
    HomeserverSettings(bind_address="0.0.0.0", public_base_url="https://beratung.example.org/")


@pytest.mark.parametrize(("enabled", "days"), [(True, -30), (False, 30)])
def test_a_message_lifetime_synapse_would_not_keep_is_refused(enabled: bool, days: int) -> None:
    """``max_lifetime_days`` is the admin's promise that no message stays on the server
    longer. A negative number, or retention switched off, rendered no policy at all, and
    Synapse kept every message until counsel purged its closed conversation: nothing said
    the promised bound was not kept."""
    from homeserver_bridge.settings import Retention

    with pytest.raises(ValueError, match="max_lifetime_days"):
        Retention(enabled=enabled, max_lifetime_days=days)


def test_a_homeserver_of_its_own_needs_no_proxy_setting_here() -> None:
    """With ``url`` the bot talks to a Synapse the admin runs (compose, the scale-out); its
    proxy is configured there, and no embedded Synapse is rendered from these settings. An
    https public address beside the default loopback bind address was refused with advice
    about "a proxy on this machine" that does not apply."""
    HomeserverSettings(url="http://127.0.0.1:18008",
                       public_base_url="https://beratung.example.org/")
