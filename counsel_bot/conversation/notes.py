"""Case notes: what a counsellor writes down for whoever takes a conversation over.

A note is kept sealed in the store (``notes:<conversation>``, a sealed setting: re-encrypted
on vault rotation, erased with the conversation by retention and by youth-initiated
deletion) and shown in the staff room to the next counsellor when they join the room,
before the transcript (the executor reads them at that moment; see `Executor._transcript`).

Where notes are written matters, because of Megolm: a `!note` typed in the youth's room is
encrypted by the counsellor's client for every device in that room, the youth's included,
before the bot sees it. The bot redacts it at once (the server drops the content, clients
that honour redactions hide it), but a youth's device that was online may have decrypted it
already. So the staff-room form ``!note C-XXXXXXXX text`` is the recommended one; in the
youth's room the bot redacts the command and says in the staff room that notes belong there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo

from counsel_bot.conversation.change import Change
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.store import Store

MAX_NOTES = 200


class TooManyNotesError(Exception):
    """A conversation holds the most notes it may; older ones must be read, not added to."""


@dataclass(frozen=True)
class Note:
    by: UserID
    at: datetime
    text: str


def notes_key(conversation: ConversationID) -> str:
    return f"notes:{conversation}"


def decode(raw: bytes | None) -> list[Note]:
    if not raw:
        return []
    return [Note(UserID(n["by"]), datetime.fromisoformat(n["at"]), str(n["text"]))
            for n in json.loads(raw)]


def encode(notes: list[Note]) -> bytes:
    return json.dumps([{"by": n.by, "at": n.at.isoformat(), "text": n.text} for n in notes],
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def formatted(notes: list[Note], zone: tzinfo) -> str:
    """One line per note, oldest first: when (on the office's clock, ``zone``: the one the
    staff keep; in UTC a note written after midnight read as the evening before), who,
    what."""
    return "\n".join(f"• {n.at.astimezone(zone):%d.%m. %H:%M}, {n.by}: {n.text}"
                     for n in notes)


async def read(store: Store, conversation: ConversationID) -> list[Note]:
    return decode(await store.get_sealed_setting(notes_key(conversation)))


async def add(store: Store, step: Change, conversation: ConversationID, by: UserID,
              text: str) -> int:
    """Add a note to the change (written with it, sealed); returns how many there are."""
    notes = await read(store, conversation)
    if len(notes) >= MAX_NOTES:
        raise TooManyNotesError(f"{conversation} has {MAX_NOTES} notes already")
    notes.append(Note(by, step.at, text))
    step.sealed.append((notes_key(conversation), encode(notes)))
    return len(notes)
