"""Turn router actions into outbox entries, and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from counsel_bot.core.routing.actions import Action
from counsel_bot.core.routing.codec import decode_action, encode_action, outbox_key
from counsel_bot.store.contract import OutboxEntry


def entries_for(
    actions: Sequence[Action], *, version: int, at: datetime
) -> tuple[OutboxEntry, ...]:
    """Outbox entries for the actions of one transition; `version` = router.version after it."""
    return tuple(
        OutboxEntry(outbox_key(action, version=version, index=i), encode_action(action), at,
                    getattr(action, "conversation", None))
        for i, action in enumerate(actions)
    )


def action_of(entry: OutboxEntry) -> Action:
    return decode_action(entry.payload)
