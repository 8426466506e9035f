"""What one handled event changes, collected before the conductor commits it.

The conductor and the parts it hands work to (video calls, supervision, deletion, the mail
channel) add to the same `Change`; nothing in it takes effect until the conductor writes it
as one transition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from counsel_bot.core.effects import Effect
from counsel_bot.core.ids import EventID
from counsel_bot.core.today import NOTHING, DayCount
from counsel_bot.metrics import CounselMetrics
from counsel_bot.store import IntakeMessage, NewConversation


@dataclass
class Change:
    """What one event changes, collected before it is committed as one transition."""

    at: datetime
    event_id: EventID | None
    effects: list[tuple[Effect, str]] = field(default_factory=list)
    new: list[NewConversation] = field(default_factory=list)
    intake: list[IntakeMessage] = field(default_factory=list)
    # Counted only once the transition is durable: a failed write must not count.
    after: list[Callable[[CounselMetrics], None]] = field(default_factory=list)
    # What it adds to the team lead's "Today" figures: the day's tally is written in the
    # transition itself (a restart goes on with it; a crash cannot lose or repeat a count).
    today: DayCount = NOTHING
    # Run once the transition is durable (not if it failed or was handled before): a part's
    # record of what it has written moves on only then.
    committed: list[Callable[[], None]] = field(default_factory=list)
    # Small adapter facts (never content), written in the transition; None deletes the key.
    settings: list[tuple[str, str | None]] = field(default_factory=list)
    # Values that may hold content (case notes, snippets, appointments), sealed by the store;
    # None deletes the key.
    sealed: list[tuple[str, bytes | None]] = field(default_factory=list)
    # What it deletes was taken back: gone on disk too (`Transition.forget_on_disk`).
    forget_on_disk: bool = False

    def add(self, effect: Effect, tag: str = "") -> None:
        self.effects.append((effect, tag))

    def add_all(self, effects: Sequence[Effect]) -> None:
        self.effects.extend((effect, "") for effect in effects)
