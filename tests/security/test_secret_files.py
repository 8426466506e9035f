"""Secrets named by *_file options are held only by the service's user. counsel.example.toml
says so for every one ("readable by the service's user only"), and the vault passphrase file
is refused otherwise; the other secrets were read whatever their mode. A Jitsi app secret
others can read lets any local account mint a token for a youth's video call, an SMTP
password lets it write to youths as the office, the PostgreSQL password opens the store."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from counsel_bot.config import StoreSettings
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.runner import _read_secret
from counsel_bot.runtime.stores import store_password
from homeserver_bridge.errors import BridgeError
from homeserver_bridge.mail.outbound import MailSender
from homeserver_bridge.mail.settings import MailSettings


def _jitsi(path: Path) -> object:
    return _read_secret(str(path))


def _smtp(path: Path) -> object:
    return MailSender(MailSettings(smtp_host="mail.example.org", smtp_username="beratung",
                                   smtp_password_file=str(path)))


def _postgres(path: Path) -> object:
    settings = StoreSettings(url="postgresql://counsel@db/counsel", password_file=path.name)
    return store_password(settings, path.parent)


READERS: dict[str, Callable[[Path], object]] = {
    "video.jitsi_app_secret_file": _jitsi,
    "mail.smtp_password_file": _smtp,
    "store.password_file": _postgres,
}


@pytest.mark.parametrize("option", READERS)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_secret_file_others_can_read_or_change_is_refused(
    tmp_path: Path, option: str, mode: int,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("geheim-und-lang-genug\n", encoding="utf-8")
    os.chmod(secret, mode)
    with pytest.raises((BotError, BridgeError)) as raised:  # ours: one line, no traceback
        READERS[option](secret)
    message = str(raised.value)
    assert f"{secret}" in message
    assert f"mode {mode:04o}" in message
    assert f"chmod 600 {secret}" in message


@pytest.mark.parametrize("option", READERS)
def test_a_private_secret_file_is_read(tmp_path: Path, option: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("geheim-und-lang-genug\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    READERS[option](secret)
    os.chmod(secret, 0o400)
    READERS[option](secret)
