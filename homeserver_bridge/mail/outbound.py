"""Outgoing mail through the office's mail server (aiosmtplib). The only sending adapter.

Errors name the setting to check and never carry addresses or content: the server's own
reply (which can quote the recipient) is reduced to its numeric code.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from homeserver_bridge.mail.errors import (
    MailConfigError,
    MailRecipientRefused,
    MailRefused,
    MailSendError,
)
from homeserver_bridge.mail.settings import MailSettings
from homeserver_bridge.paths import exposed


class MailSender:
    def __init__(self, settings: MailSettings, *, password: str | None = None) -> None:
        if not settings.smtp_host:
            raise MailConfigError(
                "mail.smtp_host is empty: set the office's outgoing mail server"
            )
        self._settings = settings
        self._password = password
        if password is None and settings.smtp_password_file:
            self._password = _read_password(settings.smtp_password_file)

    async def send(self, message: EmailMessage, *, envelope_sender: str | None = None) -> None:
        """Send `message` to its To address.

        `envelope_sender` defaults to the office address; pass "" for a bounce (the null
        sender, so a failing bounce is never bounced back).
        """
        s = self._settings
        sender = s.office_address if envelope_sender is None else envelope_sender
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                hostname=s.smtp_host,
                port=s.smtp_port,
                start_tls=s.smtp_starttls,
                username=s.smtp_username or None,
                password=self._password if s.smtp_username else None,
                # Our own name in EHLO, not the machine's (no DNS lookup, no host leak).
                local_hostname=s.office_domain,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused:
            raise MailRecipientRefused(
                "the outgoing mail server refused the recipient's address; ask the youth "
                "for their address again",
                code=550,
            ) from None
        except aiosmtplib.SMTPDataError as exc:
            if not 500 <= exc.code < 600:
                raise MailSendError(
                    f"the outgoing mail server did not take the mail for now (code "
                    f"{exc.code}); it is sent again later",
                    code=exc.code,
                ) from None
            raise MailRefused(
                f"the outgoing mail server refused the mail itself (code {exc.code}), for "
                "what it says or its size; write it otherwise",
                code=exc.code,
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise MailSendError(
                f"the outgoing mail server refused the mail (code {exc.code}); check "
                "mail.smtp_host, mail.smtp_username and the password file",
                code=exc.code,
            ) from None
        except aiosmtplib.SMTPNotSupported as exc:
            if str(message["To"] or "").isascii():
                raise _unreachable(exc) from None
            # Not the relay being away: it will never send to this address.
            raise MailRecipientRefused(
                "the outgoing mail server cannot send to an address with letters beyond "
                "ASCII (it does not speak SMTPUTF8); ask the youth for another address",
                code=553,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _unreachable(exc) from None


def _unreachable(exc: Exception) -> MailSendError:
    return MailSendError(
        f"the outgoing mail server could not be reached ({type(exc).__name__}); "
        "check mail.smtp_host, mail.smtp_port and mail.smtp_starttls",
    )


def _read_password(path: str) -> str:
    try:
        password = Path(path).read_text(encoding="utf-8").strip()
        problem = exposed(Path(path))
    except OSError as exc:
        raise MailConfigError(
            f"mail.smtp_password_file: cannot read {path} ({exc.strerror}); "
            "create it, readable only by the service's user"
        ) from None
    if problem:
        raise MailConfigError(f"mail.smtp_password_file: {problem}")
    if not password:
        raise MailConfigError(f"mail.smtp_password_file: {path} is empty; put the password in it")
    return password
