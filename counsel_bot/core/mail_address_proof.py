"""Proof that a chat youth's mail address is theirs before counselling goes there.

A youth asked for their address types it in the chat; a code goes to that address, and only
the code typed back in the chat switches the conversation to mail. Without it a mistyped
address ("gmial.com", a domain typosquatters register) or somebody else's would receive a
minor's counselling, and that stranger's answers would be posted into the youth's room.

Pure: the code, its lifetime and the tries are decided here; the mail channel keeps the
pending proof sealed (`pending_key`) and sends the code.
"""

from __future__ import annotations

import hmac
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from counsel_bot.core.ids import ConversationID

CODE_LIFETIME = timedelta(hours=1)
# Five tries of a six-digit code: one chance in 200,000 to guess it.
MAX_TRIES = 5
CODE_DIGITS = 6
# Code mails to one conversation's addresses while a code is good: each address typed sends
# one, and five new tries with it. Without an end a hostile youth could have the office
# mail a stranger again and again (and guess on for ever).
MAX_CODES = 3
# Code mails in all to one conversation: `MAX_CODES` an hour had no end, fifteen guesses
# an hour for as long as the conversation lasts (one chance in eight in a year of nights).
# Ten codes give a youth who mistypes their address room enough, and bound the guesses at
# fifty: one chance in 20,000. After that the conversation stays in the chat.
MAX_CODES_IN_ALL = 10
PENDING_PREFIX = "mail_pending:"
CODES_PREFIX = "mail_codes:"
# "123456", "123 456", "123-456": how a code from a mail is typed or pasted.
_CODE = re.compile(r"\s*(\d{3})[\s-]?(\d{3})\s*")


def pending_key(conversation: ConversationID) -> str:
    """Sealed setting of the conversation's pending proof (erased with the conversation:
    the key ends in its id)."""
    return f"{PENDING_PREFIX}{conversation}"


def codes_key(conversation: ConversationID) -> str:
    """Setting: how many code mails the conversation was sent in all (a number, naming
    nobody; erased with the conversation)."""
    return f"{CODES_PREFIX}{conversation}"


def codes_left(sent_in_all: str | None) -> bool:
    """Whether a conversation that was sent ``sent_in_all`` code mails (`codes_key`) may
    be sent one more."""
    try:
        sent = int(sent_in_all or 0)
    except ValueError:
        sent = MAX_CODES_IN_ALL  # a damaged count ends the codes, never reopens them
    return sent < MAX_CODES_IN_ALL


def one_more(sent_in_all: str | None) -> str:
    """The count (`codes_key`) after one more code mail."""
    try:
        return str(int(sent_in_all or 0) + 1)
    except ValueError:
        return str(MAX_CODES_IN_ALL)


@dataclass(frozen=True)
class PendingAddress:
    address: str
    code: str
    expires: datetime
    tries: int = 0
    # Code mails sent while one was still good, this one included (`MAX_CODES`).
    sent: int = 1

    def encode(self) -> bytes:
        return json.dumps({"address": self.address, "code": self.code,
                           "expires": self.expires.isoformat(), "tries": self.tries,
                           "sent": self.sent}).encode()

    @classmethod
    def decode(cls, raw: bytes) -> PendingAddress:
        data = json.loads(raw)
        return cls(str(data["address"]), str(data["code"]),
                   datetime.fromisoformat(data["expires"]), int(data["tries"]),
                   int(data.get("sent", 1)))


def may_send(before: PendingAddress | None, now: datetime) -> bool:
    """Whether a new address typed gets a code mail: not past `MAX_CODES` while the last
    code (or a spent one, `check`) is still good."""
    return before is None or now > before.expires or before.sent < MAX_CODES


def new_pending(address: str, now: datetime, randbelow: Callable[[int], int],
                before: PendingAddress | None = None) -> PendingAddress:
    code = f"{randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    sent = 1 if before is None or now > before.expires else before.sent + 1
    return PendingAddress(address, code, now + CODE_LIFETIME, sent=sent)


def typed_code(body: str) -> str | None:
    """The code in a chat message that is nothing but a code."""
    found = _CODE.fullmatch(body)
    if found is None:
        return None
    # In the digits the youth's keyboard writes (Arabic, Persian, full-width: all are
    # `\d`), compared as the code's own.
    return "".join(str(unicodedata.decimal(digit)) for digit in found[1] + found[2])


class Outcome(StrEnum):
    PROVEN = "proven"
    WRONG = "wrong"
    GIVEN_UP = "given_up"
    EXPIRED = "expired"


def check(pending: PendingAddress, code: str,
          now: datetime) -> tuple[Outcome, PendingAddress | None]:
    """What a typed code does; the pending proof that is left (None: it is gone). One
    given up stays, spent (no code matches it), until its time is up: it still counts
    the code mails sent (`may_send`)."""
    if now > pending.expires:
        return Outcome.EXPIRED, None
    if hmac.compare_digest(code.encode(), pending.code.encode()):
        return Outcome.PROVEN, None
    tries = pending.tries + 1
    if tries >= MAX_TRIES:
        return Outcome.GIVEN_UP, replace(pending, code="", tries=tries)
    return Outcome.WRONG, replace(pending, tries=tries)
