"""Typed settings of the homeserver bridge (filled from the [homeserver] table of counsel.toml)."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from typing import Literal

RegistrationPolicy = Literal["closed", "token", "open"]

_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?")


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and 0 < self.per_second <= 1e6):
            raise ValueError("per_second must be a positive number up to 1000000")
        if not 1 <= self.burst <= 1_000_000:
            raise ValueError("burst must be between 1 and 1000000")


@dataclass(frozen=True)
class RateLimits:
    # Synapse's own defaults, kept because they are what a youth-facing server should have.
    messages: RateLimit = field(default_factory=lambda: RateLimit(0.2, 10))
    logins: RateLimit = field(default_factory=lambda: RateLimit(0.17, 3))
    registrations: RateLimit = field(default_factory=lambda: RateLimit(0.05, 3))


@dataclass(frozen=True)
class Retention:
    # Retention support is on so purge jobs exist; the lifetime itself is the bot's decision
    # (closed conversations are purged through the admin API after [retention] days).
    enabled: bool = True
    # Upper bound for any event kept by Synapse, in days; 0 keeps events until the bot purges.
    max_lifetime_days: int = 0

    def __post_init__(self) -> None:
        # Rendered as no policy at all otherwise: messages kept beyond the bound promised.
        if not 0 <= self.max_lifetime_days <= 3650:
            raise ValueError("max_lifetime_days must be between 0 (kept until counsel purges "
                             f"them) and 3650, not {self.max_lifetime_days}")
        if self.max_lifetime_days and not self.enabled:
            raise ValueError("max_lifetime_days needs retention enabled = true, or Synapse "
                             "keeps every message longer; enable it or set 0")


@dataclass(frozen=True)
class HomeserverSettings:
    server_name: str = "counsel.localhost"
    bind_address: str = "127.0.0.1"
    port: int = 8008
    # What clients are told to use; empty means http://<bind_address>:<port>.
    public_base_url: str = ""
    registration: RegistrationPolicy = "token"
    rate_limits: RateLimits = field(default_factory=RateLimits)
    retention: Retention = field(default_factory=Retention)
    # Seconds to wait for /health before giving up with Synapse's own reason.
    start_timeout: float = 60.0
    # How the bot reaches the homeserver; empty = the embedded one at bind_address:port.
    # Set it for an external Synapse (for example the scale-out setup in deploy/).
    url: str = ""
    # Trust X-Forwarded-For from a reverse proxy in front (TLS): without it, every youth
    # behind the proxy shares one address for Synapse's login and registration limits.
    behind_proxy: bool = False
    # What one account (youth, counsellor or the bot) may upload per day, in megabytes. Each
    # file may be 20 MB; without a cap one anonymous account could fill the disk, and a full
    # disk stops the service for everyone.
    upload_limit_mb_per_day: int = 500

    def __post_init__(self) -> None:
        _check_port(self.port)
        if not _HOST_NAME.fullmatch(self.server_name):
            raise ValueError("server_name must be a host name such as counsel.example.org")
        try:
            ipaddress.ip_address(self.bind_address)
        except ValueError:
            raise ValueError(
                f"bind_address {self.bind_address!r} is not an IP address such as 127.0.0.1"
            ) from None
        if not 21 <= self.upload_limit_mb_per_day <= 100_000:
            raise ValueError(
                "upload_limit_mb_per_day must be between 21 (more than one 20 MB file) "
                "and 100000"
            )
        if not 0 < self.start_timeout <= 3600:
            raise ValueError("start_timeout must be between 0 and 3600 seconds")
        _check_url("url", self.url)
        _check_url("public_base_url", self.public_base_url)
        # Synapse serves no TLS: an https address in front of a loopback listener is a proxy on
        # this machine, and every request then comes from it. Not for a homeserver of the
        # admin's own (``url``): no embedded Synapse is rendered, its proxy is set up there.
        if (self.public_base_url.startswith("https://") and not self.behind_proxy
                and not self.url
                and ipaddress.ip_address(self.bind_address).is_loopback):
            raise ValueError(
                "public_base_url is https://, so a reverse proxy on this machine serves Synapse "
                "and every youth arrives from its address: the login and sign-up limits would "
                "refuse the fourth youth within seconds. Set behind_proxy = true and let the "
                "proxy add X-Forwarded-For")

    @property
    def client_url(self) -> str:
        host = self.bind_address
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def bot_url(self) -> str:
        return self.url.rstrip("/") if self.url else self.client_url

    @property
    def advertised_url(self) -> str:
        return self.public_base_url or self.client_url


def _check_url(name: str, url: str) -> None:
    """Empty (the default) or an http(s) URL that clients and Synapse can both read."""
    if not url:
        return
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{name} {url!r} must start with http:// or https://")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise ValueError(f"{name} {url!r} must not contain spaces or control characters")


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is outside 1..65535")
