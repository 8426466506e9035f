"""Conversation-level risk: sticky, and judging bursts of short messages together.

Youths often split one sentence over several messages ("ich will" / "nicht mehr" /
"leben"). The last few *short* messages within ``window`` are therefore joined and
assessed again. The window lives in memory only, holds at most ``max_messages`` short
texts, and drops them as soon as they age out or a long message arrives; nothing is
written anywhere. Time comes in with each call (no clock inside).

The level only rises: a later "war nur Spaß" or "jk" never clears or lowers it. A rule's
explicit reading at or below the severity the model alone had flagged counts as a rise
too: the youth has now said it in so many words (once; the level is then the rule's).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

from counsel_bot.core.crisis.combined import Assessor
from counsel_bot.core.crisis.detector import NO_FLAG, Assessment

# How much of a message the burst joins to the short ones before it: what they say with its
# start. The message is judged whole on its own; joined whole as well, a 64 KB paste was
# read twice by the model (13.6 s on a busy 2-core machine, past the judge's 10 s limit).
BURST_MESSAGE_CHARS = 1000


class ConversationRisk:
    """Risk state of one conversation. Not thread-safe; one instance per conversation."""

    def __init__(self, detector: Assessor, *, window: timedelta = timedelta(seconds=60),
                 short_chars: int = 40, max_messages: int = 5) -> None:
        if window <= timedelta(0) or short_chars < 1 or max_messages < 1:
            raise ValueError("window, short_chars and max_messages must be positive")
        self._detector = detector
        self._window = window
        self._short_chars = short_chars
        self._recent: deque[tuple[datetime, str]] = deque(maxlen=max_messages)
        self._level = NO_FLAG

    @property
    def level(self) -> Assessment:
        """The highest assessment seen so far in this conversation (sticky)."""
        return self._level

    def observe(self, text: str, at: datetime) -> Assessment:
        """Feed one message sent at ``at``.

        Returns a flagged ``Assessment`` (the new level) if this message raised the
        conversation's level, otherwise ``NO_FLAG`` - also when the level was already
        at least this high, so an alert is raised once per step up.
        """
        return self.record(text, at, self._detector.assess_many(self.to_judge(text, at)))

    def to_judge(self, text: str, at: datetime) -> list[str]:
        """What must be assessed for this message: itself, and joined with the recent short
        messages when there are any. The caller may judge them elsewhere (a worker thread:
        the model's embeddings take milliseconds) and hand the results to ``record``."""
        recent = self._kept(at)
        if not recent:
            return [text]
        return [text, " ".join([t for _, t in recent] + [text[:BURST_MESSAGE_CHARS]])]

    def record(self, text: str, at: datetime, judged: Sequence[Assessment]) -> Assessment:
        """Take the assessments of ``to_judge(text, at)``; the same contract as ``observe``."""
        self._expire(at)
        found = judged[0] if judged else NO_FLAG
        for combined in judged[1:]:
            # At the same severity a rule's reading wins: its ids explain the flag, and the
            # youth who wrote it across messages is thanked for telling (``explicit``).
            if combined.outranks(found) or (combined.severity == found.severity
                                            and combined.explicit and not found.explicit):
                found = combined
        if len(text) <= self._short_chars:
            self._recent.append((at, text))
        else:
            self._recent.clear()
        if not (found.outranks(self._level) or _said_outright(found, self._level)):
            return NO_FLAG
        # The rules of the finding that raised the level come first, then those of earlier
        # levels: the counsellor reads first why it rose now.
        rules = tuple(dict.fromkeys(found.rules + self._level.rules))
        # Said outright below the model's guess: the level keeps its severity (it only rises).
        severity = found.severity if found.outranks(self._level) else self._level.severity
        self._level = Assessment(True, found.category, severity, rules, found.score,
                                 found.nearest)
        return self._level

    def seed(self, severity: str, rules: tuple[str, ...] = ()) -> None:
        """Start from a level raised before (kept by the router across a restart); ``rules``:
        its reasons, as far as they were kept (a model's ``model.<category>``)."""
        known = Assessment(True, None, severity, rules)
        if known.outranks(self._level):
            self._level = known

    def forget_window(self) -> None:
        """Drop the remembered short messages (e.g. when the conversation closes)."""
        self._recent.clear()

    def _kept(self, now: datetime) -> list[tuple[datetime, str]]:
        # A message from the "future" (clock skew) also leaves the window.
        return [(t, m) for t, m in self._recent if timedelta(0) <= now - t <= self._window]

    def _expire(self, now: datetime) -> None:
        kept = self._kept(now)
        if len(kept) != len(self._recent):
            self._recent.clear()
            self._recent.extend(kept)


def _said_outright(found: Assessment, level: Assessment) -> bool:
    """A rule reads, at the level's severity or below it, a danger the model alone had
    guessed: news for whoever dismissed the model's guess (it flags ordinary chats too, at
    high severity as well, so "ich ritze mich" at medium is no less news)."""
    return found.explicit and level.flag and level.source == "model"
