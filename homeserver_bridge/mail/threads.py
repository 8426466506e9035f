"""Which conversation a mail belongs to, from its threading headers. Pure.

A thread is identified by its root (the first id in References, else In-Reply-To, else the
mail's own Message-ID) *together with the sender's address*: Message-IDs are chosen by the
sender and some mail programs make them guessable, so an id alone must never let a stranger
write into someone else's conversation.

The key is an HMAC under a secret of the installation that the caller keeps sealed, so the
store holds neither the address nor the id in the clear, and whoever has the store's file
but not that secret cannot test a guessed address against the keys.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import NewType

from homeserver_bridge.mail.parse import InboundMail

ThreadKey = NewType("ThreadKey", str)


def thread_root(mail: InboundMail) -> str:
    if mail.references:
        return mail.references[0]
    return mail.in_reply_to or mail.message_id


def key_for(address: str, message_id: str, secret: bytes) -> ThreadKey:
    """The key of the thread rooted at `message_id` with the correspondent `address`."""
    material = f"counsel-mail-thread\0{_address(address)}\0{message_id}"
    return ThreadKey(hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest())


def legacy_key_for(address: str, message_id: str) -> ThreadKey:
    """The unkeyed key versions before the HMAC kept; read only by the upgrade that replaces
    them (`counsel_bot.channels.mail.thread_index`). Never write one."""
    local, _, domain = address.strip().rpartition("@")
    material = f"counsel-mail-thread\0{local}@{domain.lower()}\0{message_id}"
    return ThreadKey(hashlib.sha256(material.encode("utf-8")).hexdigest())


def thread_key(mail: InboundMail, secret: bytes) -> ThreadKey:
    return key_for(mail.from_address, thread_root(mail), secret)


def thread_key_candidates(
    mail: InboundMail, secret: bytes, office_domains: frozenset[str] = frozenset()
) -> tuple[ThreadKey, ...]:
    """Keys to look up, best first: the root, then the newest references, then the mail itself.

    Some mail programs keep only In-Reply-To; if the office registers the key of every mail
    it sent (`key_for(youth_address, reply_message_id, secret)`), such a reply still finds
    its room.

    The office's replies go to the Reply-To address and are registered under it; a youth
    whose program sends From another address names them from there. So the replies the
    mail answers (ids on one of `office_domains`) are looked up under its Reply-To too.
    Only those: they are drawn under the secret and known only to whoever got the reply,
    while a stranger's Reply-To naming a youth together with that youth's own, perhaps
    guessable, Message-IDs must never find the youth's thread.
    """
    ids = [thread_root(mail)]
    if mail.in_reply_to:
        ids.append(mail.in_reply_to)
    ids.extend(reversed(mail.references))
    ids.append(mail.message_id)
    seen: dict[str, None] = dict.fromkeys(ids)
    keys = [key_for(mail.from_address, i, secret) for i in seen]
    if _address(mail.reply_address) != _address(mail.from_address):
        answered = (mail.in_reply_to, *reversed(mail.references))
        keys.extend(key_for(mail.reply_address, i, secret) for i in dict.fromkeys(answered)
                    if i and _id_domain(i) in office_domains)
    return tuple(dict.fromkeys(keys))


def _id_domain(message_id: str) -> str:
    return message_id.strip().strip("<>").rpartition("@")[2].lower()


def _address(address: str) -> str:
    # All of it in lower case, the local part too. RFC 5321 lets a server tell Kim@ from
    # kim@, but the providers youths use do not, and phones capitalise the address typed
    # into the chat while the mail program sends it as the provider spells it: kept as
    # typed, the youth's answer missed the counsellor's thread and opened a new case. Two
    # mailboxes told apart by case alone would share a key only with the same thread's
    # Message-IDs too, which a stranger does not have. lower(), not casefold(): "ß" and
    # "ss" are different letters in a mailbox name.
    return address.strip().lower()
