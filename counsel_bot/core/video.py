"""Video meetings for a conversation: unguessable links, Jitsi tokens, the room widget. Pure.

Rules this module keeps:
- a conference id comes only from `random_bytes` (160 bits), never from a room, user or
  nickname, so a link says nothing about who meets and cannot be guessed;
- the widget state event is not encrypted (the server reads it), so it carries only the
  random conference id and fixed, neutral words;
- a Jitsi token (self-hosted token auth) is scoped to one conference and expires; the
  counsellor's token makes a moderator, the youth's does not. Tokens travel only in the
  encrypted message, never in the widget.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import jwt

from counsel_bot.core.clock import require_aware

Provider = Literal["jitsi", "element_call"]

WIDGET_EVENT_TYPE = "im.vector.modular.widgets"
# Shown to everyone in the room and readable by the server: neutral on purpose.
WIDGET_NAME = "Video"
NEUTRAL_ROOM_NAME = "Video"
CONFERENCE_ID_BYTES = 20  # 160 bits
WIDGET_ID_BYTES = 12
# Tolerates a Jitsi server whose clock runs a little behind ours.
NOT_BEFORE_SKEW = timedelta(seconds=60)
# An HS256 key at least as long as its hash (RFC 7518, 3.2): every youth holds a token signed
# with it, from which a shorter secret can be searched offline and then tokens forged.
MIN_SECRET_BYTES = 32


class VideoError(ValueError):
    """Video cannot be offered as configured; the message says which setting to change."""


@dataclass(frozen=True)
class VideoSettings:
    provider: Provider = "jitsi"
    # Empty means video is off: a youth's call never goes to a service the office did not
    # choose (and sign a processing agreement with). Set it to the office's own Jitsi or
    # Element Call, e.g. "https://meet.example.org".
    base_url: str = ""
    # Token auth of a self-hosted Jitsi: on when both are set.
    jitsi_app_id: str = ""
    jitsi_app_secret_file: str = ""
    jitsi_audience: str = "jitsi"
    link_ttl_minutes: int = 120
    youth_may_request: bool = False

    def __post_init__(self) -> None:
        if self.provider not in ("jitsi", "element_call"):
            raise ValueError(f"provider: {self.provider!r} is not 'jitsi' or 'element_call'")
        if self.base_url:
            _check_base_url(self.base_url)
        if bool(self.jitsi_app_id) != bool(self.jitsi_app_secret_file):
            raise ValueError(
                "jitsi_app_id: token auth needs both jitsi_app_id and jitsi_app_secret_file; "
                "set both or neither"
            )
        if self.token_auth and self.provider != "jitsi":
            raise ValueError("jitsi_app_id: token auth applies to provider 'jitsi' only")
        if not self.jitsi_audience:
            raise ValueError("jitsi_audience: must not be empty (Jitsi's default is 'jitsi')")
        if not 1 <= self.link_ttl_minutes <= 24 * 60:
            raise ValueError(
                f"link_ttl_minutes: {self.link_ttl_minutes} is outside 1..1440 (one day)"
            )

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    @property
    def token_auth(self) -> bool:
        return bool(self.jitsi_app_id and self.jitsi_app_secret_file)

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def domain(self) -> str:
        """The Jitsi (XMPP) domain: the host of base_url, without port."""
        return urlsplit(self.base_url).hostname or ""


@dataclass(frozen=True)
class Meeting:
    conference_id: str
    counsellor_url: str
    youth_url: str
    widget_id: str
    widget_content: dict[str, Any] = field(hash=False)
    expires_at: datetime


def create_meeting(
    settings: VideoSettings,
    *,
    secret: str | None,
    now: datetime,
    random_bytes: Callable[[int], bytes],
    counsellor_name: str = "",
    youth_name: str = "",
    until: datetime | None = None,
) -> Meeting:
    """A new meeting: links for both sides and the widget content for the room.

    `secret` is the content of jitsi_app_secret_file when token auth is on (else None).
    `youth_name` is the youth's nickname (never a Matrix id); it goes only into the youth's
    token, which Jitsi shows as the display name in the call. `until` is when the call may
    end at the latest (an appointment's end and the time it may run over): the tokens stay
    valid at least that long, or a youth who drops out late could not join again.
    """
    if not settings.enabled:
        raise VideoError(
            "video is off: set video.base_url to the office's Jitsi or Element Call address"
        )
    now = require_aware(now).astimezone(UTC)
    expires_at = now + timedelta(minutes=settings.link_ttl_minutes)
    if until is not None:
        expires_at = max(expires_at, require_aware(until).astimezone(UTC))
    conference_id = _token(random_bytes, CONFERENCE_ID_BYTES)
    widget_id = "counsel_video_" + _token(random_bytes, WIDGET_ID_BYTES)
    if settings.provider == "element_call":
        link = f"{settings.root}/room/#/{conference_id}"
        return Meeting(
            conference_id, link, link, widget_id, _custom_widget(widget_id, link), expires_at
        )
    base_link = f"{settings.root}/{conference_id}"
    counsellor_url = youth_url = base_link
    if settings.token_auth:
        secret = check_secret(secret)
        common = {"now": now, "expires_at": expires_at}
        counsellor_url = base_link + "?jwt=" + jitsi_token(
            settings, secret, conference_id, counsellor_name, moderator=True, **common
        )
        youth_url = base_link + "?jwt=" + jitsi_token(
            settings, secret, conference_id, youth_name, moderator=False, **common
        )
    content = jitsi_widget_content(settings, widget_id, conference_id)
    return Meeting(conference_id, counsellor_url, youth_url, widget_id, content, expires_at)


def check_secret(secret: str | None) -> str:
    """The Jitsi app secret, if it is long enough to sign tokens; else VideoError."""
    size = len((secret or "").encode("utf-8"))
    if not secret or size < MIN_SECRET_BYTES:
        raise VideoError(
            f"Jitsi token auth is on but its secret is {size} bytes long: put at least "
            f"{MIN_SECRET_BYTES} random characters (for example from `openssl rand -hex 32`) "
            "into the file named by video.jitsi_app_secret_file, and the same into Jitsi"
        )
    return secret


def jitsi_token(
    settings: VideoSettings,
    secret: str,
    conference_id: str,
    display_name: str,
    *,
    moderator: bool,
    now: datetime,
    expires_at: datetime,
) -> str:
    """An HS256 token for one Jitsi conference, as Jitsi's token auth (prosody) checks it."""
    user: dict[str, Any] = {"moderator": moderator}
    if display_name:
        user["name"] = display_name
    claims = {
        "iss": settings.jitsi_app_id,
        "aud": settings.jitsi_audience,
        "sub": settings.domain,
        "room": conference_id,
        "iat": int(now.timestamp()),
        "nbf": int((now - NOT_BEFORE_SKEW).timestamp()),
        "exp": int(expires_at.timestamp()),
        "context": {"user": user},
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def jitsi_widget_content(
    settings: VideoSettings, widget_id: str, conference_id: str
) -> dict[str, Any]:
    """The `im.vector.modular.widgets` content Element Web shows as a Jitsi call.

    Element Web renders Jitsi widgets through its own wrapper from `data`; other clients
    open `url`, which goes straight to the conference (no token: tokens are per person).
    """
    return {
        "type": "jitsi",
        "id": widget_id,
        "name": WIDGET_NAME,
        "url": f"{settings.root}/{conference_id}",
        "data": {
            "conferenceId": conference_id,
            "domain": urlsplit(settings.base_url).netloc,
            "isAudioOnly": False,
            "roomName": NEUTRAL_ROOM_NAME,
        },
    }


def widget_removal_content() -> dict[str, Any]:
    """Content that removes a widget: the same state key with empty content."""
    return {}


def _custom_widget(widget_id: str, link: str) -> dict[str, Any]:
    # Element Call's own widget type starts MatrixRTC in the room, which a bot cannot do for
    # its users; a plain custom widget opens the call page instead.
    return {"type": "m.custom", "id": widget_id, "name": WIDGET_NAME, "url": link, "data": {}}


def _token(random_bytes: Callable[[int], bytes], size: int) -> str:
    raw = random_bytes(size)
    if len(raw) != size:
        raise ValueError(f"random_bytes returned {len(raw)} bytes, expected {size}")
    # Lower-case base32: Jitsi lower-cases room names, and it is safe in URLs and state keys.
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(
            f"base_url: {url!r} must start with https:// (http only for localhost)"
        )
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"base_url: {url!r} must be a plain address like https://meet.example.org"
        )
