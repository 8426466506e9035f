"""Where a youth's mail is found again: thread keys in the store, and the Message-IDs of
the office's replies, both under one secret the database file does not give away.

The plain settings map ``mailthread-hmac:<key>`` to the conversation, the key being an HMAC
of the youth's address and a Message-ID (`homeserver_bridge.mail.threads`). The secret is
random, made once per installation and kept as a sealed setting: the vault's keys guard it
as they guard the address itself, `counsel vault rotate` re-encrypts it, and a standby
reads the same one. A reply's Message-ID is derived from its outbox key under the same
secret (so a repeat after a crash is still recognised), not from the key alone as before:
whoever holds the file can neither test a guessed address against the thread keys nor
compute a reply's Message-ID from the outbox and write into the youth's thread with it.

Versions before kept an unkeyed SHA-256 as ``mailthread:<key>``. `upgrade_legacy_keys`
(run by the mail channel at start, before the outbox worker and the SMTP server) rewrites
the ones still of use and deletes them all; see there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from counsel_bot.core.effects import MailToYouth, SendMail, decode_effect
from counsel_bot.core.ids import ConversationID, EventID
from counsel_bot.store import Store
from homeserver_bridge.mail import (
    InboundMail,
    key_for,
    legacy_key_for,
    new_message_id,
    thread_key_candidates,
)

PREFIX = "mailthread-hmac:"
LEGACY_PREFIX = "mailthread:"
SECRET_SETTING = "mail-thread-secret"  # noqa: S105 (the sealed setting's name)
_SECRET_BYTES = 32
_REPLY_CONTEXT = b"counsel-mail-reply\0"
_EVENT_CONTEXT = b"counsel-mail-event\0"


class ThreadIndex:
    """The thread keys of one store; the secret read (or made) on first use."""

    def __init__(self, store: Store, office_domains: frozenset[str] = frozenset()) -> None:
        self._store = store
        # Where the office's replies' Message-IDs are drawn (`thread_key_candidates`).
        self._office_domains = office_domains
        self._secret: bytes | None = None
        self._lock = asyncio.Lock()  # two first mails at once make one secret, not two

    async def secret(self) -> bytes:
        if self._secret is None:
            async with self._lock:
                if self._secret is None:
                    stored = await self._store.get_sealed_setting(SECRET_SETTING)
                    if stored is None:
                        stored = secrets.token_bytes(_SECRET_BYTES)
                        await self._store.set_sealed_setting(SECRET_SETTING, stored)
                    self._secret = stored
        return self._secret

    async def lookups(self, mail: InboundMail) -> tuple[str, ...]:
        """The settings that may name `mail`'s conversation, best first."""
        secret = await self.secret()
        return tuple(PREFIX + k
                     for k in thread_key_candidates(mail, secret, self._office_domains))

    async def setting(self, address: str, message_id: str) -> str:
        """The setting naming the conversation of the thread (`address`, `message_id`)."""
        return PREFIX + key_for(address, message_id, await self.secret())

    async def untagged_setting(self, address: str, message_id: str) -> str | None:
        """The setting for the reply `message_id` under `address` without its "+tag"
        (kim+beratung@ → kim@), or None if it has none. A youth who gives a tagged address
        gets the replies there, but Gmail, Outlook and others answer From the mailbox
        itself. Safe to find by: the reply's id is drawn under the secret, and only its
        recipient has it."""
        local, _, domain = address.strip().rpartition("@")
        base = local.partition("+")[0]
        if not base or base == local:
            return None
        return await self.setting(f"{base}@{domain}", message_id)

    async def event_id(self, mail: InboundMail) -> EventID:
        """The id a mail is known again by (an SMTP retry of it): its sender and Message-ID
        under the secret. Not the id alone: another sender's mail with an id seen before
        (a form numbering its mails, a stranger) was dropped as a retry. Keyed: the
        processed events are kept in the clear, and an unkeyed hash let whoever holds the
        file and the youth's sent folder confirm the youth wrote to the office."""
        material = f"{mail.from_address.strip().lower()}\0{mail.message_id}".encode()
        digest = hmac.new(await self.secret(), _EVENT_CONTEXT + material, hashlib.sha256)
        return EventID("mail:" + digest.hexdigest()[:32])

    async def reply_seed(self, outbox_key: str) -> bytes:
        """What a reply's Message-ID is drawn from: the same for a repeat of the same
        outbox entry, and nothing anyone can compute from the entry without the secret."""
        return hmac.new(await self.secret(), _REPLY_CONTEXT + outbox_key.encode("utf-8"),
                        hashlib.sha256).digest()


def seeded(seed: bytes) -> Callable[[int], bytes]:
    """`seed` as the "random" bytes of a Message-ID: the same id for the same seed."""
    return lambda n: (seed * (n // len(seed) + 1))[:n]


@dataclass(frozen=True)
class Correspondent:
    """An open mail conversation, as the upgrade needs it."""

    conversation: ConversationID
    address: str
    # Every Message-ID its thread keeps: the youth's mails and the office's replies.
    message_ids: tuple[str, ...]
    # The address its replies come from (their Message-IDs are on its domain).
    office_address: str


async def upgrade_legacy_keys(
    index: ThreadIndex, store: Store,
    open_conversations: Callable[[], Awaitable[Iterable[Correspondent]]], at: datetime,
) -> int:
    """Replace the unkeyed thread keys of older versions; returns how many were deleted.

    An unkeyed key cannot be turned into a keyed one: the address and the id are not in it.
    So, for each open conversation, the keys of the ids its sealed thread keeps are computed
    both ways, and those found unkeyed are written keyed. A key no open conversation
    accounts for (closed ones are never continued) is deleted with the rest: a youth who
    answers an older mail of the thread still finds it by its root.

    Replies in flight: a reply the mail server accepted just before the old version was
    killed has its unkeyed "sent" key written but its outbox entry not done. Its Message-ID
    was drawn from the outbox key alone; that id's key is written keyed and the entry is
    marked done, so the reply is not sent again with a new id. An entry not yet sent goes
    out with an id under the secret.

    Writes first, deletes last: a crash in between leaves unkeyed keys that the next start
    upgrades again. Run before anything reads or writes thread keys.
    """
    legacy = {key.removeprefix(LEGACY_PREFIX): value
              for key, value in await store.settings(LEGACY_PREFIX)}
    if not legacy:
        return 0
    secret = await index.secret()
    by_id = {c.conversation: c for c in await open_conversations()}
    keyed: dict[str, str] = {}
    for c in by_id.values():
        for message_id in c.message_ids:
            if legacy.get(legacy_key_for(c.address, message_id)) == c.conversation:
                keyed[PREFIX + key_for(c.address, message_id, secret)] = c.conversation
    sent: list[str] = []
    for entry in await store.pending_outbox():
        effect = decode_effect(entry.payload)
        if not isinstance(effect, SendMail | MailToYouth):
            continue
        mailed = by_id.get(effect.conversation)
        if mailed is None:
            continue
        old_id = new_message_id(mailed.office_address,
                                seeded(hashlib.sha256(entry.key.encode()).digest()))
        if legacy.get(legacy_key_for(mailed.address, old_id)) == mailed.conversation:
            keyed[PREFIX + key_for(mailed.address, old_id, secret)] = mailed.conversation
            sent.append(entry.key)
    for key, conversation in keyed.items():
        await store.set_setting(key, conversation)
    if sent:
        await store.mark_outbox_done(sent, at=at)
    for key in legacy:
        # Only the plain row goes: there is no sealed setting of that name.
        await store.move_to_sealed(LEGACY_PREFIX + key, None)
    return len(legacy)
