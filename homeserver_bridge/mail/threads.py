"""Which conversation a mail belongs to, from its threading headers. Pure.

A thread is identified by its root (the first id in References, else In-Reply-To, else the
mail's own Message-ID) *together with the sender's address*: Message-IDs are chosen by the
sender and some mail programs make them guessable, so an id alone must never let a stranger
write into someone else's conversation. The key is a hash, so the store holds neither the
address nor the id in the clear.
"""

from __future__ import annotations

import hashlib
from typing import NewType

from homeserver_bridge.mail.parse import InboundMail

ThreadKey = NewType("ThreadKey", str)


def thread_root(mail: InboundMail) -> str:
    if mail.references:
        return mail.references[0]
    return mail.in_reply_to or mail.message_id


def key_for(address: str, message_id: str) -> ThreadKey:
    """The key of the thread rooted at `message_id` with the correspondent `address`."""
    local, _, domain = address.strip().rpartition("@")
    material = f"counsel-mail-thread\0{local}@{domain.lower()}\0{message_id}"
    return ThreadKey(hashlib.sha256(material.encode("utf-8")).hexdigest())


def thread_key(mail: InboundMail) -> ThreadKey:
    return key_for(mail.from_address, thread_root(mail))


def thread_key_candidates(mail: InboundMail) -> tuple[ThreadKey, ...]:
    """Keys to look up, best first: the root, then the newest references, then the mail itself.

    Some mail programs keep only In-Reply-To; if the office registers the key of every mail
    it sent (`key_for(youth_address, reply_message_id)`), such a reply still finds its room.
    """
    ids = [thread_root(mail)]
    if mail.in_reply_to:
        ids.append(mail.in_reply_to)
    ids.extend(reversed(mail.references))
    ids.append(mail.message_id)
    seen: dict[str, None] = dict.fromkeys(ids)
    return tuple(key_for(mail.from_address, i) for i in seen)
