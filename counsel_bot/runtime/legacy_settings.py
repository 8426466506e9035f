"""The upgrade of values that older versions kept vault-sealed in the plain settings table.

The mail channel (a switched chat youth's address, the reply thread), the group book and the
forum's waiting posts once sealed their values with the vault themselves and kept the blobs,
base64, as plain settings. `counsel vault rotate` re-encrypts only what the store knows to be
sealed, so it retired the data key those blobs needed and they could no longer be opened.
They are sealed settings now, which the store seals, re-encrypts and (keyed
``<kind>:<conversation>``) erases with the conversation.

Rows an older version left behind are moved here: each is opened under its old context,
written as a sealed setting and its plain row deleted, in one transaction. Both the rotation
(before it re-encrypts: a data directory may be rotated before a new bot ever ran on it) and
the bot (when it becomes the active one, before any part reads them) run it, so every read
finds only the new form; a second run finds nothing to move.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from counsel_bot.channels.mail.mail_keys import LEGACY_ADDRESS_CONTEXT, LEGACY_THREAD_CONTEXT
from counsel_bot.conversation.forum import legacy_context as legacy_post_context
from counsel_bot.conversation.group_keys import BOOK_KEY, LEGACY_BOOK_CONTEXT
from counsel_bot.store import Sealer, Store
from e2e.errors import VaultError


@dataclass(frozen=True)
class LegacyKind:
    """Plain settings keyed ``prefix`` + rest, sealed under ``context(rest)``."""

    prefix: str
    context: Callable[[str], bytes]
    whole_key: bool = False  # the prefix is the whole key (the group book)


LEGACY_KINDS = (
    LegacyKind("mailto:", lambda conversation: LEGACY_ADDRESS_CONTEXT + conversation.encode()),
    LegacyKind("mailreply:", lambda conversation: LEGACY_THREAD_CONTEXT + conversation.encode()),
    LegacyKind("forum_post:", legacy_post_context),
    LegacyKind(BOOK_KEY, lambda _rest: LEGACY_BOOK_CONTEXT, whole_key=True),
)


async def move_legacy_sealed_settings(store: Store, vault: Sealer) -> int:
    """Move every legacy row into the sealed settings; returns how many rows were moved.

    Run while no other process writes the store (the rotation, or the active bot at start).
    A row that cannot be opened stops the upgrade with it still in place: with the rotation,
    before any key is retired."""
    moved = 0
    for kind in LEGACY_KINDS:
        for key, value in await store.settings(kind.prefix):
            if kind.whole_key and key != kind.prefix:
                continue
            # "" is what older versions left for a decided forum post: nothing to keep.
            plain = _open(vault, kind, key, value) if value else None
            if await store.move_to_sealed(key, plain):
                moved += 1
    return moved


def _open(vault: Sealer, kind: LegacyKind, key: str, value: str) -> bytes:
    try:
        blob = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise VaultError(
            f"a stored {kind.prefix.rstrip(':')} value is not in the form counsel wrote; "
            "restore the database from a backup (nothing was moved or retired)") from None
    return vault.open_sealed(blob, context=kind.context(key[len(kind.prefix):]))
