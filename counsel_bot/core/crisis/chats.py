"""Labelled chats: reading them, and the training examples they give.

A chat file is JSON Lines, one chat per line: ``id``, ``lang``, ``label`` (crisis/none),
``category``, ``turns`` (``role`` youth/counsellor and ``text``), ``first_crisis_turn`` (the
index into ``turns`` of the youth turn where a careful counsellor should be alerted; null
for harmless chats) and optionally ``source`` and ``style``. Counsellor turns are context
for a reader and set the replay's clock; the detector reads only the youth's.

For training, a chat gives two kinds of examples (``training_examples``):

- every youth turn of a harmless chat, alone, as an ordinary message. The single-message
  corpus is about half crises and its harmless half is mostly written to look like risk;
  "night night", "bis morgen vllt" and "hab heut premiere" were nearly absent, and the
  model flagged one such line in five.
- the youth's last ``WINDOW`` turns joined, as the bot judges a burst: harmless in a
  harmless chat, a crisis from the crisis turn on. Windows of a crisis chat before that
  turn are left out: the writer judged them not yet alarming, but they may hold the hints
  that lead up to it, and the model must not learn to wave hints through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from counsel_bot.core.crisis.errors import EvalDataError
from counsel_bot.core.crisis.evaluation import Example, json_lines

WINDOW = 3
# Their kind in training (where they weigh less) and in reports.
CHAT_KIND = "chat"


@dataclass(frozen=True)
class Chat:
    id: str
    lang: str
    crisis: bool
    category: str | None
    youth: tuple[str, ...]
    # Per youth turn: did a counsellor's turn come before it (the clock's longer gap)?
    after_reply: tuple[bool, ...]
    first_crisis: int | None  # index into ``youth``
    source: str = ""
    style: str = ""


def _chat(raw: object, path: Path, line_no: int) -> Chat:
    if not isinstance(raw, dict) or any(k not in raw for k in ("id", "lang", "label", "turns")):
        raise EvalDataError(path, line_no, "a chat needs id, lang, label and turns")
    turns = raw["turns"]
    if raw["label"] not in ("crisis", "none") or not isinstance(turns, list):
        raise EvalDataError(path, line_no, 'label must be "crisis" or "none", turns a list')
    youth: list[str] = []
    after_reply: list[bool] = []
    position: dict[int, int] = {}
    previous = "counsellor"
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("role") not in ("youth", "counsellor") \
                or not isinstance(turn.get("text"), str):
            raise EvalDataError(path, line_no,
                                f"turn {i} needs a role (youth or counsellor) and a text")
        if turn["role"] == "youth":
            position[i] = len(youth)
            youth.append(turn["text"])
            after_reply.append(previous == "counsellor")
        previous = turn["role"]
    crisis = raw["label"] == "crisis"
    first = raw.get("first_crisis_turn")
    start = position.get(first) if isinstance(first, int) else None
    if crisis and start is None:
        raise EvalDataError(path, line_no, "first_crisis_turn must be the index of a youth turn")
    category = raw.get("category")
    return Chat(str(raw["id"]), str(raw["lang"]), crisis,
                category if isinstance(category, str) else None, tuple(youth),
                tuple(after_reply), start if crisis else None, str(raw.get("source", "")),
                str(raw.get("style", "")))


def read_chats(path: Path) -> list[Chat]:
    return [_chat(raw, path, line_no) for line_no, raw in json_lines(path)]


def _language(chat: Chat) -> str:
    # Mixed German-English chats count as German, the office's first language.
    return chat.lang if chat.lang in ("de", "en") else "de"


def training_examples(chats: Iterable[Chat], known: Iterable[str] = (),
                      windows: bool = True) -> list[Example]:
    """Harmless youth turns alone, and windows of ``WINDOW`` turns (see the module text).
    Texts in ``known`` (the single-message corpus) and repeats are left out."""
    seen = set(known)
    out: list[Example] = []

    def add(example: Example) -> None:
        if example.text not in seen:
            seen.add(example.text)
            out.append(example)

    for chat in chats:
        for i, text in enumerate(chat.youth):
            if not chat.crisis:
                add(Example(f"{chat.id}-t{i:02d}", _language(chat), text, False, None,
                            CHAT_KIND, chat.source, chat.style))
            if not windows or i == 0:
                continue
            start = chat.first_crisis
            crisis = start is not None and i >= start
            if chat.crisis and not crisis:
                continue
            joined = " ".join(chat.youth[max(0, i - WINDOW + 1):i + 1])
            add(Example(f"{chat.id}-w{i:02d}", _language(chat), joined, crisis,
                        chat.category if crisis else None, CHAT_KIND, chat.source,
                        chat.style))
    return out
