"""Content and settings are validated when built, with messages that say what to change."""

from __future__ import annotations

from typing import Any

import pytest

from homeserver_bridge.entry_page import (
    DEFAULT_EMERGENCY_NUMBERS,
    EmergencyNumber,
    EntryPageContent,
    EntryPageSettings,
)

GOOD: dict[str, Any] = {
    "homeserver_url": "http://127.0.0.1:8008",
    "server_name": "counsel.localhost",
    "bot_user_id": "@beratung:counsel.localhost",
}


def test_defaults_are_the_safe_ones() -> None:
    settings = EntryPageSettings()
    assert (settings.bind_address, settings.port) == ("127.0.0.1", 8090)
    assert settings.token_limit_per_address_per_hour == 3
    assert settings.token_limit_global_per_hour == 60
    assert settings.token_ttl_hours == 24
    assert settings.trusted_proxies == ()
    assert settings.url == "http://127.0.0.1:8090/"
    assert EntryPageSettings(bind_address="::1", port=9000).url == "http://[::1]:9000/"
    content = EntryPageContent(**GOOD)
    assert content.registration == "token"
    assert content.emergency_numbers == DEFAULT_EMERGENCY_NUMBERS
    assert content.chat_link == "https://matrix.to/#/@beratung:counsel.localhost"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"homeserver_url": "matrix.example.org"}, "must be an http"),
        ({"server_name": ""}, "server_name"),
        ({"bot_user_id": "beratung"}, "not a Matrix user id"),
        ({"registration": "invite"}, "closed, token, open"),
        ({"opening_hours": {"fr": ["lundi"]}}, "only de and en"),
        ({"office_name": "  "}, "office_name"),
    ],
)
def test_bad_content_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EntryPageContent(**{**GOOD, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bind_address": "localhost"}, "not an IP address"),
        ({"port": 0}, "outside 1..65535"),
        ({"token_limit_per_address_per_hour": 0}, "at least 1"),
        ({"token_limit_global_per_hour": 2}, "at least token_limit_per_address"),
        ({"token_ttl_hours": 0}, "between 1 and 720"),
        ({"trusted_proxies": ("proxy.local",)}, "not an address or network"),
    ],
)
def test_bad_settings_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EntryPageSettings(**change)


def test_content_is_frozen_all_the_way_down() -> None:
    hours = {"de": ["Mo 14–18"]}
    content = EntryPageContent(**GOOD, opening_hours=hours)
    hours["de"].append("Di 14–18")
    assert content.hours_in("de") == ("de", ("Mo 14–18",))
    assert content.hours_in("en") == ("de", ("Mo 14–18",))
    with pytest.raises(TypeError):
        content.opening_hours["en"] = ()  # type: ignore[index]


def test_emergency_numbers_must_be_diallable() -> None:
    with pytest.raises(ValueError, match="digits and spaces"):
        EmergencyNumber(name={"de": "Hilfe"}, numbers=("call 112",))
    with pytest.raises(ValueError, match="German name"):
        EmergencyNumber(name={"en": "Help"}, numbers=("112",))
    with pytest.raises(ValueError, match="no number"):
        EmergencyNumber(name={"de": "Hilfe"}, numbers=())
    entry = EmergencyNumber(name={"de": "Hilfe"}, numbers=("112",))
    assert (entry.name_in("en"), entry.note_in("en")) == (("de", "Hilfe"), ("de", ""))
