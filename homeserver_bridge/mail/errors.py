"""Errors of the mail channel. Messages name the setting to check; never an address."""

from __future__ import annotations

from homeserver_bridge.errors import BridgeError


class MailError(BridgeError):
    """Base of the mail channel's errors."""


class MailConfigError(MailError):
    """The mail settings cannot be used as they are."""


class MailSendError(MailError):
    """The outgoing mail server did not take the mail; it was not sent."""

    def __init__(self, message: str, *, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class MailRefused(MailSendError):
    """The outgoing mail server refused this mail itself for good (what it says, or its
    size): sending the same mail again cannot help; it has to be written otherwise."""


class MailRecipientRefused(MailSendError):
    """The outgoing mail server refused the recipient's address: sending the same mail to
    it again cannot help; the youth has to give another address."""
