"""Render the hardened homeserver.yaml from config/homeserver.template.yaml and our settings."""

from __future__ import annotations

import json
import string
from collections.abc import Collection
from pathlib import Path

import yaml

from homeserver_bridge.contact_rules import write_trusted
from homeserver_bridge.paths import CONFIG_DIR, DataLayout, ensure_secret_file, write_private
from homeserver_bridge.settings import HomeserverSettings

TEMPLATE = CONFIG_DIR / "homeserver.template.yaml"
LOG_CONFIG = CONFIG_DIR / "homeserver.log.yaml"


def render_homeserver_yaml(settings: HomeserverSettings, layout: DataLayout) -> str:
    """The complete Synapse configuration; pure apart from reading the template."""
    hs = layout.synapse_dir
    limits = settings.rate_limits
    policy = settings.registration
    values: dict[str, object] = {
        "server_name": settings.server_name,
        "public_baseurl": settings.advertised_url.rstrip("/") + "/",
        "pid_file": str(hs / "homeserver.pid"),
        "port": settings.port,
        "bind_address": settings.bind_address,
        "database": str(hs / "homeserver.db"),
        "media_store_path": str(hs / "media_store"),
        "signing_key_path": str(hs / "signing.key"),
        "log_config": str(hs / "log.yaml"),
        "registration_shared_secret_path": str(layout.registration_secret_file),
        "macaroon_secret_key_path": str(hs / "macaroon_secret_key"),
        "form_secret_path": str(hs / "form_secret"),
        "trusted_file": str(layout.trusted_accounts_file),
        "registration_policy": policy,
        "enable_registration": policy != "closed",
        "registration_requires_token": policy == "token",
        # Anonymous sign-up: a nickname and a password, never an e-mail address or phone number.
        "enable_registration_without_verification": policy != "closed",
        "rc_message_per_second": limits.messages.per_second,
        "rc_message_burst": limits.messages.burst,
        "rc_registration_per_second": limits.registrations.per_second,
        "rc_registration_burst": limits.registrations.burst,
        "rc_login_per_second": limits.logins.per_second,
        "rc_login_burst": limits.logins.burst,
        "retention_enabled": settings.retention.enabled,
        "x_forwarded": settings.behind_proxy,
        "upload_limit_per_day": f"{settings.upload_limit_mb_per_day}M",
    }
    rendered = {key: _scalar(value) for key, value in values.items()}
    # Comments in the template name the policy in plain words, unquoted.
    rendered["registration_policy"] = policy
    rendered["retention_policy"] = _retention_policy(settings)
    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(rendered)


def _scalar(value: object) -> str:
    """One YAML value. Strings go through YAML's own quoting: JSON's would write a character
    outside the BMP as a surrogate pair, which YAML refuses."""
    if isinstance(value, str):
        return yaml.safe_dump(value, default_style='"', width=1 << 30).rstrip("\n")
    return json.dumps(value)


def _retention_policy(settings: HomeserverSettings) -> str:
    days = settings.retention.max_lifetime_days
    if not settings.retention.enabled or days <= 0:
        return ""
    return f"  default_policy:\n    max_lifetime: {days}d\n"


def write_homeserver_config(
    settings: HomeserverSettings, layout: DataLayout, trusted: Collection[str],
    bots: Collection[str] = (),
) -> Path:
    """Write secrets (once) and the configuration (every start); return the config path.

    ``trusted``: the bot and the staff, whom the contact rules leave alone (rewritten at
    every start, so who left the staff list loses it); ``bots``, which of them are bots
    (youths invite the staff only into rooms a bot is in)."""
    hs = layout.synapse_dir
    for name in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
        ensure_secret_file(hs / name)
    write_trusted(layout.trusted_accounts_file, trusted, bots=bots)
    write_private(hs / "log.yaml", LOG_CONFIG.read_text(encoding="utf-8"))
    path = hs / "homeserver.yaml"
    write_private(path, render_homeserver_yaml(settings, layout))
    return path
