"""Where a mail conversation keeps what it must (the store's settings, sealed where they name
the youth): the youth's address, the reply thread's headers, the office's words mailed last,
and the marks of its first-reply deadline. Nothing here touches the store: the keys and the
stored form only."""

from __future__ import annotations

import json

from counsel_bot.core.ids import ConversationID
from counsel_bot.store.contract import ConversationRecord
from homeserver_bridge.mail import InboundMail, ReplyThread

MAILTO = "mailto:"

# Settings: when a mail conversation was last answered; its first-reply deadline was
# reminded of / breached.
REPLIED_PREFIX = "mailreplied:"
REMINDED_PREFIX = "mail_reminded:"
BREACHED_PREFIX = "mail_breached:"

# How versions before the sealed settings kept the two: vault blobs (base64) in the plain
# settings, which rotation did not reach. Read only by the upgrade (runtime/legacy_settings).
LEGACY_THREAD_CONTEXT = b"counsel/mail-thread/v1"
LEGACY_ADDRESS_CONTEXT = b"counsel/mail-address/v1"


def address_key(conversation: ConversationID) -> str:
    """Sealed setting: a switched chat youth's address (erased with the conversation)."""
    return f"mailto:{conversation}"


def thread_key(conversation: ConversationID) -> str:
    """Sealed setting: the reply thread's headers (erased with the conversation)."""
    return f"mailreply:{conversation}"


def said_key(conversation: ConversationID) -> str:
    """Sealed setting: the office's newest words mailed in the thread (`kept_said`; erased
    with the conversation), to tell them quoted in an answer from the youth's own."""
    return f"mailsaid:{conversation}"


def mail_address(record: ConversationRecord) -> str | None:
    """The youth's address of a mail conversation (kept sealed as its youth id)."""
    youth = str(record.youth_user_id)
    return youth[len(MAILTO):] if youth.startswith(MAILTO) else None


def thread_value(thread: ReplyThread) -> bytes:
    """A reply thread as kept under `thread_key`."""
    return json.dumps({"id": thread.message_id, "refs": list(thread.references),
                       "subject": thread.subject}).encode()


def thread_of(stored: bytes) -> ReplyThread:
    """A reply thread kept under `thread_key` (`thread_value`)."""
    data = json.loads(stored)
    return ReplyThread(data["id"], tuple(data["refs"]), data["subject"])


def written_from(mail: InboundMail, address: str) -> bool:
    """Whether `mail` comes from `address` (From or Reply-To; a "+tag" and letter case
    aside, as the thread keys see them)."""
    def plain(a: str) -> str:
        local, _, domain = a.strip().lower().rpartition("@")
        return f"{local.partition('+')[0]}@{domain}"
    return plain(address) in {plain(mail.from_address), plain(mail.reply_address)}
