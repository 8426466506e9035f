"""Video meetings: link format, Jitsi token claims, widget content, nothing identifying."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import jwt
import pytest

from counsel_bot.config import Settings
from counsel_bot.core.errors import BotError
from counsel_bot.core.video import (
    Meeting,
    VideoError,
    VideoSettings,
    create_meeting,
    widget_removal_content,
)
from counsel_bot.runtime.runner import policy_from

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests-only-0123456789abcdef"
JITSI = VideoSettings(base_url="https://meet.example.org")
TOKEN_JITSI = VideoSettings(
    base_url="https://meet.example.org",
    jitsi_app_id="counsel",
    jitsi_app_secret_file="/run/secrets/jitsi",
    jitsi_audience="jitsi",
    link_ttl_minutes=90,
)
CALL = VideoSettings(provider="element_call", base_url="https://call.example.org/")
# What the bot knows about the people and the room: none of it may show up.
NICK = "Sternchen_2009"
COUNSELLOR = "Frau Beispiel"
IDENTIFIERS = ("@jugend-xyz:counsel.localhost", "!abcdefgh:counsel.localhost", NICK, COUNSELLOR)


def meeting(
    settings: VideoSettings,
    secret: str | None = None,
    *,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    now: datetime = NOW,
) -> Meeting:
    return create_meeting(
        settings,
        secret=secret,
        now=now,
        random_bytes=random_bytes,
        counsellor_name=COUNSELLOR,
        youth_name=NICK,
    )


def test_default_is_off_and_names_the_setting() -> None:
    settings = VideoSettings()
    assert not settings.enabled
    with pytest.raises(VideoError, match=r"video\.base_url"):
        meeting(settings)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"provider": "zoom"}, "provider"),
        ({"base_url": "http://meet.example.org"}, "base_url"),
        ({"base_url": "https://meet.example.org/?a=1"}, "base_url"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"jitsi_app_id": "counsel"}, "jitsi_app_id"),
        ({"jitsi_app_secret_file": "/x"}, "jitsi_app_id"),
        ({"jitsi_audience": ""}, "jitsi_audience"),
        ({"link_ttl_minutes": 0}, "link_ttl_minutes"),
        (
            {
                "provider": "element_call",
                "base_url": "https://call.example.org",
                "jitsi_app_id": "a",
                "jitsi_app_secret_file": "/x",
            },
            "jitsi_app_id",
        ),
    ],
)
def test_settings_are_validated_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        VideoSettings(**kwargs)  # type: ignore[arg-type]


def test_http_is_allowed_for_localhost_only() -> None:
    assert VideoSettings(base_url="http://localhost:8443").enabled
    assert VideoSettings(base_url="http://127.0.0.1:8443").enabled


def test_jitsi_link_format_and_widget() -> None:
    m = meeting(JITSI)
    assert m.counsellor_url == m.youth_url == f"https://meet.example.org/{m.conference_id}"
    assert m.conference_id.isalnum()
    assert m.conference_id.islower()
    assert len(m.conference_id) * 5 >= 128  # base32: 5 bits a character
    content = m.widget_content
    assert content["type"] == "jitsi"
    assert content["id"] == m.widget_id
    assert content["url"] == f"https://meet.example.org/{m.conference_id}"
    assert content["data"] == {
        "conferenceId": m.conference_id,
        "domain": "meet.example.org",
        "isAudioOnly": False,
        "roomName": "Video",
    }
    assert m.expires_at == NOW + timedelta(minutes=120)


def test_jitsi_tokens_carry_the_claims_jitsi_checks() -> None:
    m = meeting(TOKEN_JITSI, SECRET)
    tokens = {}
    for who, url in (("counsellor", m.counsellor_url), ("youth", m.youth_url)):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
            f"https://meet.example.org/{m.conference_id}"
        )
        (token,) = parse_qs(parts.query)["jwt"]
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        tokens[who] = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience="jitsi",
            issuer="counsel",
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    for claims in tokens.values():
        assert claims["sub"] == "meet.example.org"
        assert claims["room"] == m.conference_id
        assert claims["exp"] == int((NOW + timedelta(minutes=90)).timestamp())
        assert claims["iat"] == int(NOW.timestamp())
        assert claims["nbf"] <= claims["iat"]
    assert tokens["counsellor"]["context"]["user"] == {"name": COUNSELLOR, "moderator": True}
    assert tokens["youth"]["context"]["user"] == {"name": NICK, "moderator": False}
    # No token in the widget: the server reads state events.
    assert "jwt" not in json.dumps(m.widget_content)


def test_jitsi_token_expires_and_needs_the_secret() -> None:
    # PyJWT checks against the real clock, so the meeting is made in the real past.
    issued = datetime.now(UTC) - timedelta(minutes=91)
    m = meeting(TOKEN_JITSI, SECRET, now=issued)
    token = parse_qs(urlsplit(m.youth_url).query)["jwt"][0]
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", leeway=0)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-enough-length-000", algorithms=["HS256"],
                   audience="jitsi", options={"verify_exp": False})  # fmt: skip


def test_a_fresh_token_is_valid_now() -> None:
    now = datetime.now(UTC)
    m = create_meeting(TOKEN_JITSI, secret=SECRET, now=now, random_bytes=secrets.token_bytes)
    token = parse_qs(urlsplit(m.youth_url).query)["jwt"][0]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="counsel")
    assert claims["context"]["user"] == {"moderator": False}  # no name given, none invented


def test_tokens_last_until_the_call_may_end_when_that_is_later_than_the_ttl() -> None:
    """An appointment's call: a youth who drops out in its last hour can join again."""
    until = NOW + timedelta(hours=4)
    m = create_meeting(TOKEN_JITSI, secret=SECRET, now=NOW, random_bytes=secrets.token_bytes,
                       until=until)
    assert m.expires_at == until
    for url in (m.youth_url, m.counsellor_url):
        claims = jwt.decode(parse_qs(urlsplit(url).query)["jwt"][0],
                            options={"verify_signature": False})
        assert claims["exp"] == int(until.timestamp())
    # An earlier end never shortens the configured lifetime.
    short = create_meeting(TOKEN_JITSI, secret=SECRET, now=NOW,
                           random_bytes=secrets.token_bytes, until=NOW + timedelta(minutes=5))
    assert short.expires_at == NOW + timedelta(minutes=TOKEN_JITSI.link_ttl_minutes)


def test_token_auth_without_secret_is_refused() -> None:
    with pytest.raises(VideoError, match="jitsi_app_secret_file"):
        meeting(TOKEN_JITSI, None)


@pytest.mark.parametrize("secret", ["geheim", "x" * 31, "ü" * 15], ids=["word", "31", "30b"])
def test_a_token_secret_shorter_than_its_hash_is_refused(secret: str) -> None:
    """Every youth holds a token signed with the secret: one shorter than HS256's 256 bits
    (RFC 7518, 3.2) can be searched offline from it, and then tokens forged at will."""
    with pytest.raises(VideoError, match="jitsi_app_secret_file"):
        meeting(TOKEN_JITSI, secret)


def test_a_short_token_secret_stops_the_start_not_the_first_call(tmp_path: Path) -> None:
    path = tmp_path / "jitsi"
    path.write_text("geheim\n", encoding="utf-8")
    path.chmod(0o600)  # private, as secret files must be: refused for its length alone
    video = replace(TOKEN_JITSI, jitsi_app_secret_file=str(path))
    with pytest.raises(BotError, match="jitsi_app_secret_file") as refused:
        policy_from(replace(Settings(), video=video))
    assert "geheim" not in str(refused.value)  # the secret itself is never shown
    path.write_text(SECRET + "\n", encoding="utf-8")
    assert policy_from(replace(Settings(), video=video)).video_secret == SECRET


def test_element_call_link_and_custom_widget() -> None:
    m = meeting(CALL)
    assert m.counsellor_url == m.youth_url == f"https://call.example.org/room/#/{m.conference_id}"
    assert "jwt" not in m.youth_url
    assert m.widget_content == {
        "type": "m.custom",
        "id": m.widget_id,
        "name": "Video",
        "url": m.youth_url,
        "data": {},
    }


@pytest.mark.parametrize("settings", [JITSI, TOKEN_JITSI, CALL], ids=["jitsi", "token", "call"])
def test_no_identifier_in_links_or_widget(settings: VideoSettings) -> None:
    m = meeting(settings, SECRET)
    visible = [m.conference_id, m.widget_id, json.dumps(m.widget_content)]
    # Links without their token: the token carries the display name on purpose (Jitsi shows
    # it in the call), everything else in the link must be random.
    visible += [u.split("?jwt=")[0] for u in (m.counsellor_url, m.youth_url)]
    for text in visible:
        for ident in IDENTIFIERS:
            for form in (ident, quote(ident), ident.lower(), ident.split(":")[0]):
                assert form not in text
    assert "@" not in json.dumps(m.widget_content)


def test_ids_are_unique_and_come_only_from_randomness() -> None:
    ids = {meeting(JITSI).conference_id for _ in range(500)}
    assert len(ids) == 500
    fixed = meeting(JITSI, random_bytes=lambda n: bytes(n))
    assert fixed.conference_id == "a" * len(fixed.conference_id)


def test_short_random_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="random_bytes"):
        meeting(JITSI, random_bytes=lambda n: b"x")


def test_widget_removal_is_empty_content() -> None:
    assert widget_removal_content() == {}
