"""Shared makings for the tests of the conductor's parts (no store, no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import Effect
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import Channel, ConversationSnapshot, ConversationState

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CASE = ConversationID("C-0000CAFE")
COUNSELLOR, LEAD = UserID("@anna:x"), UserID("@lea:x")
WAITING = ConversationSnapshot(CASE, ConversationState.WAITING, Channel.CHAT, "de", AT, 0)


def assigned(to: UserID = COUNSELLOR, **changes: Any) -> ConversationSnapshot:
    return replace(WAITING, state=ConversationState.ASSIGNED, assigned_to=to, assigned_at=AT,
                   assignments=1, **changes)


def effects(step: Change) -> list[Effect]:
    return [effect for effect, _ in step.effects]
