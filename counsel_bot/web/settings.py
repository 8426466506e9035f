"""Settings of the team-lead web endpoint (/metrics and /dashboard), validated on creation."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from counsel_bot.core.errors import BotError
from homeserver_bridge.paths import exposed


class WebSettingsError(BotError, ValueError):
    """A web setting is unusable; the message names the option and what to change."""


@dataclass(frozen=True)
class WebSettings:
    # Loopback by default: put a TLS proxy in front to reach it from elsewhere.
    bind_address: str = "127.0.0.1"
    port: int = 9464
    # File holding the bearer token Prometheus must send to /metrics; empty = no token, and
    # then /metrics answers only requests that came straight to the port: one a proxy
    # forwarded (X-Forwarded-For, Forwarded or X-Real-IP present) is refused.
    metrics_token_file: str = ""
    # False drops the counsellor-nickname label; open conversations are then one total.
    counsellor_label: bool = True
    dashboard_refresh_seconds: int = 15
    # A team-lead session ends this long after login, whatever the activity.
    session_seconds: int = 8 * 3600
    # Login attempts allowed per client address within login_window_seconds.
    login_attempts: int = 5
    login_window_seconds: int = 300
    # Failed sign-ins per account (Matrix ID) within login_window_seconds, from whatever
    # addresses, before the account is under guard (sessions.AccountGuard): guessing one
    # lead's password from many addresses is capped, and the lead still gets in.
    login_attempts_per_account: int = 10
    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed, as on the
    # entry page; empty means the peer address is the client, whatever headers say. Behind
    # the TLS proxy the docs recommend, set its address here, or every lead shares one limit.
    trusted_proxies: tuple[str, ...] = ()
    # Set when a TLS proxy serves the dashboard, so the session cookie never travels in clear
    # (a trusted proxy that forwards X-Forwarded-Proto: https makes it Secure anyway).
    cookie_secure: bool = False
    # Team leads must sign in with a second factor (TOTP): without one set up, the password
    # opens only the enrolment page; with one, a sign-in without the code is refused.
    require_totp: bool = False

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.bind_address)
        except ValueError:
            raise WebSettingsError(
                f"bind_address: {self.bind_address!r} is not an IP address; "
                "use 127.0.0.1 (default) or the address of one interface"
            ) from None
        _in_range("port", self.port, 1, 65535)
        _in_range("dashboard_refresh_seconds", self.dashboard_refresh_seconds, 1, 3600)
        _in_range("session_seconds", self.session_seconds, 60, 7 * 24 * 3600)
        _in_range("login_attempts", self.login_attempts, 1, 1000)
        _in_range("login_window_seconds", self.login_window_seconds, 1, 24 * 3600)
        _in_range("login_attempts_per_account", self.login_attempts_per_account, 1, 1000)
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except (ValueError, TypeError):
                raise WebSettingsError(
                    f"trusted_proxies: {proxy!r} is not an address or network; use e.g. "
                    "127.0.0.1 or 10.0.0.0/8"
                ) from None
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))

    @property
    def metrics_url(self) -> str:
        """Where `counsel stats` and the entry page read /metrics: straight to the port (a
        proxy in between would be refused). An IPv6 address needs brackets in a URL."""
        host = f"[{self.bind_address}]" if ":" in self.bind_address else self.bind_address
        return f"http://{host}:{self.port}/metrics"

    def metrics_token(self) -> str | None:
        """The bearer token from ``metrics_token_file``; None when no file is configured."""
        if not self.metrics_token_file:
            return None
        path = Path(self.metrics_token_file)
        try:
            token = path.read_text(encoding="utf-8").strip()
            problem = exposed(path)
        except OSError as exc:
            raise WebSettingsError(
                f"metrics_token_file: cannot read {path} ({exc.strerror}); "
                "create it with the token Prometheus sends, or leave the option empty"
            ) from None
        # As every other secret file: a token any local account can read guards nothing.
        if problem:
            raise WebSettingsError(f"metrics_token_file: {problem}")
        if len(token) < 16:
            raise WebSettingsError(
                f"metrics_token_file: the token in {path} is shorter than 16 characters; "
                "put a long random token there (e.g. `openssl rand -hex 32`)"
            )
        return token


def _in_range(key: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WebSettingsError(f"{key}: {value!r} must be a whole number from {low} to {high}")
