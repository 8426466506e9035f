"""Errors of the bot. Each message tells the office what to do; none carries message text."""


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class StorageError(BotError):
    """The bot's database cannot be written; nothing was acted on."""


class MailAddressRefused(BotError):
    """A mail address given by a youth that their replies cannot go to (the office's own);
    the youth is asked for their own."""
