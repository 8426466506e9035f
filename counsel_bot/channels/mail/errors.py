"""What the mail channel raises when a mail cannot go: the executor tells the room."""

from __future__ import annotations

from counsel_bot.core.errors import BotError


class MailUndeliverable(BotError):
    """The youth's address cannot take mail: sending again cannot help, the youth has to
    give another address (the executor tells the room so, in ``text_key``)."""

    text_key = "mail.undeliverable"


class MailContentRefused(MailUndeliverable):
    """The mail server refused the mail itself: sending it again cannot help, its words
    have to be written otherwise (the executor tells the room so)."""

    text_key = "mail.refused"
