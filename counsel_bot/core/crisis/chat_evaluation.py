"""Scoring the detector the way the bot uses it: whole chats, turn by turn.

Labelled single messages are about half crises, and their harmless half is mostly written to
look like risk. A real chat is mostly "hi", "ok", "weiß nicht", "bis morgen": a detector that
flags one ordinary line in ten alerts the staff room in nearly every chat and sends nearly
every youth the emergency numbers. So a chat is replayed here through ``ConversationRisk``
(the bot's sticky level and its window for bursts of short messages) on an injected clock,
and counted as a counsellor and a youth live it:

- a crisis chat is *caught* when the detector flags the turn where the crisis becomes clear
  or one of the next ``LATE_TURNS`` youth turns (an alert before it is counted apart: it
  brings a human early, but by luck), and *by the turn* when the chat's first alert came at
  or before that turn;
- a harmless chat is *alerted* when it raised any alert; every raised level is an alert;
- a chat is *thanked* when its first alert was explicit (a rule at medium or high
  severity): the youth is then thanked for telling, not only offered the emergency numbers.
  A harmless chat thanked is a youth thanked for a disclosure they never made.

The chat files are described in ``chats.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from counsel_bot.core.crisis.chats import Chat
from counsel_bot.core.crisis.combined import Assessor
from counsel_bot.core.crisis.conversation import ConversationRisk
from counsel_bot.core.crisis.detector import Assessment
from counsel_bot.core.crisis.evaluation import fmt

# Seconds between two youth messages in a row, and across a counsellor's answer (reading,
# typing, reading). The burst window (60 s) joins the first kind, not the second.
BURST_GAP = timedelta(seconds=10)
REPLY_GAP = timedelta(seconds=50)
LATE_TURNS = 2
_START = datetime(2026, 1, 1)
_BATCH = 64


@dataclass(frozen=True)
class Replay:
    chat: Chat
    flagged: tuple[bool, ...]  # per youth turn: judged a crisis (alone or with its burst)
    alerts: tuple[int, ...]  # youth turns at which the chat's level rose
    thanked: bool = False  # the first alert was explicit

    @property
    def caught(self) -> bool:
        start = self.chat.first_crisis
        return start is not None and any(self.flagged[start:start + LATE_TURNS + 1])

    @property
    def by_the_turn(self) -> bool:
        start = self.chat.first_crisis
        return start is not None and bool(self.alerts) and self.alerts[0] <= start

    @property
    def early(self) -> bool:
        start = self.chat.first_crisis
        return start is not None and bool(self.alerts) and self.alerts[0] < start


@dataclass(frozen=True)
class ChatCounts:
    crisis: int = 0
    caught: int = 0
    by_the_turn: int = 0
    early: int = 0
    harmless: int = 0
    thanked: int = 0  # harmless chats thanked
    alerted: int = 0
    alerts: int = 0
    harmless_turns: int = 0
    harmless_turns_flagged: int = 0

    def add(self, r: Replay) -> ChatCounts:
        if r.chat.crisis:
            return replace(self, crisis=self.crisis + 1, caught=self.caught + r.caught,
                           by_the_turn=self.by_the_turn + r.by_the_turn,
                           early=self.early + r.early)
        return replace(self, harmless=self.harmless + 1, alerted=self.alerted + bool(r.alerts),
                       thanked=self.thanked + r.thanked,
                       alerts=self.alerts + len(r.alerts),
                       harmless_turns=self.harmless_turns + len(r.flagged),
                       harmless_turns_flagged=self.harmless_turns_flagged + sum(r.flagged))


@dataclass(frozen=True)
class ChatReport:
    overall: ChatCounts
    by_lang: dict[str, ChatCounts]
    by_category: dict[str, ChatCounts]
    missed: tuple[str, ...]
    alerted_harmless: tuple[str, ...]


class _Remembering:
    """The detector with every single youth turn judged up front in batches (the bot judges
    one at a time; the verdicts are the same, the replay is faster)."""

    def __init__(self, detector: Assessor, texts: Iterable[str]) -> None:
        self._detector = detector
        self._known: dict[str, Assessment] = {}
        todo = list(dict.fromkeys(texts))
        for start in range(0, len(todo), _BATCH):
            batch = todo[start:start + _BATCH]
            self._known.update(zip(batch, detector.assess_many(batch), strict=True))

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._known]
        if missing:
            self._known.update(zip(missing, self._detector.assess_many(missing), strict=True))
        return [self._known[t] for t in texts]


def replay(detector: Assessor, chat: Chat) -> Replay:
    risk = ConversationRisk(detector)
    at = _START
    flagged: list[bool] = []
    alerts: list[int] = []
    thanked = False
    for i, (text, after_reply) in enumerate(zip(chat.youth, chat.after_reply, strict=True)):
        at += REPLY_GAP if after_reply else BURST_GAP
        judged = detector.assess_many(risk.to_judge(text, at))
        flagged.append(any(a.flag for a in judged))
        level = risk.record(text, at, judged)
        if level.flag:
            if not alerts:  # only the first flag sends the youth a text
                thanked = level.explicit
            alerts.append(i)
    return Replay(chat, tuple(flagged), tuple(alerts), thanked)


def evaluate_chats(detector: Assessor, chats: Sequence[Chat]) -> ChatReport:
    remembering = _Remembering(detector, (t for chat in chats for t in chat.youth))
    overall = ChatCounts()
    by_lang: dict[str, ChatCounts] = {}
    by_category: dict[str, ChatCounts] = {}
    missed: list[str] = []
    alerted: list[str] = []
    for chat in chats:
        r = replay(remembering, chat)
        overall = overall.add(r)
        by_lang[chat.lang] = by_lang.get(chat.lang, ChatCounts()).add(r)
        if chat.crisis:
            key = chat.category or "-"
            by_category[key] = by_category.get(key, ChatCounts()).add(r)
            if not r.caught and not r.by_the_turn:
                missed.append(chat.id)
        elif r.alerts:
            alerted.append(chat.id)
    return ChatReport(overall, dict(sorted(by_lang.items())), dict(sorted(by_category.items())),
                      tuple(missed), tuple(alerted))


def _share(part: int, whole: int) -> str:
    return fmt(part / whole if whole else None)


def format_chat_report(report: ChatReport) -> str:
    header = (f"{'group':<24}{'crisis':>7}{'caught':>8}{'by turn':>9}{'early':>7}"
              f"{'harmless':>10}{'alerted':>9}{'thanked':>9}{'alerts/chat':>13}"
              f"{'turns flagged':>15}")
    lines = [header, "-" * len(header)]

    def row(name: str, c: ChatCounts) -> None:
        per_chat = "    -" if not c.harmless else f"{c.alerts / c.harmless:5.2f}"
        lines.append(f"{name:<24}{c.crisis:>7}{_share(c.caught, c.crisis):>8}"
                     f"{_share(c.by_the_turn, c.crisis):>9}{_share(c.early, c.crisis):>7}"
                     f"{c.harmless:>10}{_share(c.alerted, c.harmless):>9}"
                     f"{_share(c.thanked, c.harmless):>9}{per_chat:>13}"
                     f"{_share(c.harmless_turns_flagged, c.harmless_turns):>15}")

    row("overall", report.overall)
    for title, groups in (("lang", report.by_lang), ("category", report.by_category)):
        lines.append("")
        for name, counts in groups.items():
            row(f"{title}={name}", counts)
    lines.append("")
    lines.append(f"caught: the crisis turn or one of the next {LATE_TURNS} youth turns flagged; "
                 "by turn: the chat's first alert at or before it; early: before it; "
                 "thanked: the first alert explicit, so the youth was thanked for telling")
    lines.append("missed crisis chats: " + (", ".join(report.missed) or "none"))
    lines.append("alerted harmless chats: " + (", ".join(report.alerted_harmless) or "none"))
    return "\n".join(lines)
