"""What the working-day staff commands change: case notes and text snippets.

Called by the conductor with the `Change` of the command's event; adds sealed settings and
replies, never routing events. Replies are `SayInRoom`; in a youth's room the conductor
turns them into staff-room notices, so nothing here ever reaches the youth.
"""

from __future__ import annotations

from collections.abc import Mapping

from counsel_bot.conversation import notes
from counsel_bot.conversation.change import Change
from counsel_bot.core import workday_commands as wd
from counsel_bot.core.effects import Redact, SayInRoom
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.store import Store

SNIPPET_PREFIX = "snippet:"


def snippet_key(name: str) -> str:
    return f"{SNIPPET_PREFIX}{name}"


class Workday:
    def __init__(self, store: Store, configured_snippets: Mapping[str, str]) -> None:
        self.store = store
        # From the configuration ([[snippets]]); stored ones (!snippet add) win on a name.
        self.configured = {name.casefold(): text for name, text in configured_snippets.items()}

    async def command(
        self, step: Change, room_id: RoomID, sender: UserID, event_id: EventID,
        command: wd.WorkdayCommand, here: ConversationID | None,
    ) -> None:
        if isinstance(command, wd.NoteCommand):
            await self._note(step, room_id, sender, event_id, command, here)
        elif isinstance(command, wd.NotesCommand):
            await self._notes(step, room_id, sender, command.conversation or here)
        elif isinstance(command, wd.SnippetCommand):
            if here is not None:
                step.add(Redact(here, event_id))  # the youth's room stays the conversation
            await self._snippet(step, room_id, sender, command.name)
        elif isinstance(command, wd.SnippetAdd):
            step.sealed.append((snippet_key(command.name), command.text.encode("utf-8")))
            step.add(SayInRoom(room_id, sender, "snippets.added", (("name", command.name),)))
        elif isinstance(command, wd.SnippetRemove):
            if await self.store.get_sealed_setting(snippet_key(command.name)) is None:
                step.add(SayInRoom(room_id, sender, "snippets.unknown",
                                   (("name", command.name), ("names", await self._names()))))
            else:
                step.sealed.append((snippet_key(command.name), None))
                step.add(SayInRoom(room_id, sender, "snippets.removed",
                                   (("name", command.name),)))
        else:
            step.add(SayInRoom(room_id, sender, "snippets.list",
                               (("names", await self._names()),)))

    async def _note(
        self, step: Change, room_id: RoomID, sender: UserID, event_id: EventID,
        command: wd.NoteCommand, here: ConversationID | None,
    ) -> None:
        if here is not None:
            # In the youth's room: gone from the server at once (see conversation/notes.py
            # for what redaction cannot undo).
            step.add(Redact(here, event_id))
        conversation = command.conversation or here
        if conversation is None:
            step.add(SayInRoom(room_id, sender, "notes.which"))
            return
        if await self.store.room_of(conversation) is None:
            step.add(SayInRoom(room_id, sender, "notes.unknown",
                               (("conversation", conversation),)))
            return
        try:
            count = await notes.add(self.store, step, conversation, sender, command.text)
        except notes.TooManyNotesError:
            step.add(SayInRoom(room_id, sender, "notes.full", (("conversation", conversation),)))
            return
        key = "notes.saved" if here is None else "notes.saved_in_youth_room"
        step.add(SayInRoom(room_id, sender, key,
                           (("conversation", conversation), ("count", count))))

    async def _notes(self, step: Change, room_id: RoomID, sender: UserID,
                     conversation: ConversationID | None) -> None:
        if conversation is None:
            step.add(SayInRoom(room_id, sender, "notes.which"))
            return
        found = await notes.read(self.store, conversation)
        if not found:
            step.add(SayInRoom(room_id, sender, "notes.none", (("conversation", conversation),)))
            return
        step.add(SayInRoom(room_id, sender, "notes.list",
                           (("conversation", conversation), ("count", len(found)),
                            ("notes", notes.formatted(found)))))

    async def _snippet(self, step: Change, room_id: RoomID, sender: UserID, name: str) -> None:
        stored = await self.store.get_sealed_setting(snippet_key(name))
        text = stored.decode("utf-8") if stored is not None else self.configured.get(name)
        if text is None:
            step.add(SayInRoom(room_id, sender, "snippets.unknown",
                               (("name", name), ("names", await self._names()))))
            return
        step.add(SayInRoom(room_id, sender, "snippets.copy", (("name", name), ("text", text))))

    async def _names(self) -> str:
        stored = [key.removeprefix(SNIPPET_PREFIX)
                  for key, _ in await self.store.sealed_settings(SNIPPET_PREFIX)]
        names = sorted({*stored, *self.configured})
        return ", ".join(names) if names else "–"
