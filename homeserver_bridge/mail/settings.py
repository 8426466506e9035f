"""Typed settings of the mail channel (filled from the [mail] table of counsel.toml)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# A pragmatic addr-spec check: one @, a dotted domain, no spaces, brackets or control
# characters. Used for the office address and for senders: full RFC 5322 syntax (quoted
# local parts, comments) is not worth accepting from strangers.
_LOCAL = r"[^@\s<>\"(),;:\\\[\]\x00-\x1f\x7f-\x9f]+"
_LABEL = r"[^@.\s<>\"(),;:\\\[\]\x00-\x1f\x7f-\x9f]+"
_ADDRESS = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+{_LABEL}")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# Past max_bytes a mail is still read; past this multiple the SMTP server stops reading it.
HARD_LIMIT_FACTOR = 8


@dataclass(frozen=True)
class MailLimits:
    # Room for a long letter with a pasted signature logo; text-only mail stays far below.
    # Past it a mail is still read, its pictures and files named and never passed on: a
    # phone photo or screenshot alone is megabytes, and the words of a returned mail reach
    # nobody. Past `hard_bytes` the SMTP server refuses it.
    max_bytes: int = 1024 * 1024
    # Attachments are never passed on (the counsellors' machines should not open unknown
    # files from strangers), only named under the words. A mail with more than this many is
    # returned with an explanation; the default reads a mail with a photo or two, since the
    # words of a returned mail reach nobody, and a youth in crisis may not write again.
    max_attachments: int = 10
    # Past this (about ten pages) a reply's quoted thread is left out; a youth's own words
    # are read whole up to LONG_TEXT_FACTOR times it and posted in several messages.
    max_text_bytes: int = 32 * 1024

    @property
    def hard_bytes(self) -> int:
        """The size past which a mail is refused unread."""
        return self.max_bytes * HARD_LIMIT_FACTOR

    def __post_init__(self) -> None:
        if self.max_bytes < 4096:
            raise ValueError(f"max_bytes: {self.max_bytes} is too small; use at least 4096")
        if not 0 <= self.max_attachments <= 100:
            raise ValueError(f"max_attachments: {self.max_attachments} is outside 0..100")
        if not 1024 <= self.max_text_bytes <= 48 * 1024:
            raise ValueError(
                f"max_text_bytes: {self.max_text_bytes} is outside 1024..49152 "
                "(a Matrix message holds at most 64 KiB once encrypted)"
            )


@dataclass(frozen=True)
class MailSettings:
    enabled: bool = False
    # Where the bridge's SMTP server listens. Loopback by default: let the office's mail
    # server (with TLS and spam filtering) relay the counselling address to it.
    listen_address: str = "127.0.0.1"
    listen_port: int = 8025
    office_address: str = "beratung@counsel.localhost"
    max_bytes: int = 1024 * 1024
    max_attachments: int = 10
    # Outgoing mail server of the office (submission port, STARTTLS required by default).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password_file: str = ""
    smtp_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.listen_address)
        except ValueError:
            raise ValueError(
                f"listen_address: {self.listen_address!r} is not an IP address such as 127.0.0.1"
            ) from None
        # 0 lets the system choose a free port (tests); production uses a fixed one.
        if not 0 <= self.listen_port <= 65535:
            raise ValueError(f"listen_port: {self.listen_port} is outside 0..65535")
        if not is_address(self.office_address):
            raise ValueError(
                f"office_address: {self.office_address!r} is not a mail address like "
                "beratung@example.org"
            )
        MailLimits(max_bytes=self.max_bytes, max_attachments=self.max_attachments)
        if not 1 <= self.smtp_port <= 65535:
            raise ValueError(f"smtp_port: {self.smtp_port} is outside 1..65535")
        if self.enabled and not self.smtp_host:
            raise ValueError(
                "smtp_host: set the office's outgoing mail server; replies cannot be sent "
                "without it"
            )
        if bool(self.smtp_username) != bool(self.smtp_password_file):
            raise ValueError(
                "smtp_username: give both smtp_username and smtp_password_file, or neither"
            )
        if self.smtp_username and not self.smtp_starttls and self.smtp_host not in (
            _LOOPBACK_HOSTS
        ):
            raise ValueError(
                "smtp_starttls: a password is never sent unencrypted to another machine; "
                "switch smtp_starttls on"
            )
        if self.smtp_timeout_seconds <= 0:
            raise ValueError("smtp_timeout_seconds: must be positive")

    @property
    def limits(self) -> MailLimits:
        return MailLimits(max_bytes=self.max_bytes, max_attachments=self.max_attachments)

    @property
    def office_domain(self) -> str:
        return self.office_address.rpartition("@")[2].lower()


def is_address(value: str) -> bool:
    return bool(_ADDRESS.fullmatch(value))
