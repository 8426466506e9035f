"""What the working-day staff commands change: case notes and text snippets.

Called by the conductor with the `Change` of the command's event; adds sealed settings and
replies, never routing events. Replies are `SayInRoom`; in a youth's room the conductor
turns them into staff-room notices, so nothing here ever reaches the youth.

Snippets belong to an office. The conductor says which offices a command is about (the
youth's conversation's, the counsellor's one office, or the office whose staff room it was
given in; several when that is not clear, none without offices). A name is looked up in
those offices' stored snippets (``snippet@OFFICE:NAME``, sealed) and configured ones first,
then in the shared ones: stored before offices existed (``snippet:NAME``) and `[[snippets]]`.
`!snippet add` needs exactly one office: it never writes into another office's set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, tzinfo

from counsel_bot.conversation import notes
from counsel_bot.conversation.change import Change
from counsel_bot.core import workday_commands as wd
from counsel_bot.core.effects import Redact, SayInRoom
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.store import Store

SNIPPET_PREFIX = "snippet:"


def snippet_key(name: str, office: str = "") -> str:
    """Shared (no office, or stored before offices) or one office's own."""
    return f"snippet@{office}:{name}" if office else f"{SNIPPET_PREFIX}{name}"


def office_prefix(office: str) -> str:
    return f"snippet@{office}:"


class Workday:
    def __init__(self, store: Store, configured_snippets: Mapping[str, str],
                 office_snippets: Mapping[str, Mapping[str, str]] | None = None,
                 former_ids: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.store = store
        # An office -> the ids it had before (`former_ids`): snippets stored under those
        # are its own too.
        self.former_ids = dict(former_ids or {})
        # From the configuration ([[snippets]]); stored ones (!snippet add) win on a name.
        self.configured = {name.casefold(): text for name, text in configured_snippets.items()}
        # Each office's own ([[offices]] snippets), before the shared ones.
        self.office_configured = {office: {n.casefold(): t for n, t in texts.items()}
                                  for office, texts in (office_snippets or {}).items()}
        # The clock a conversation's office keeps, for the notes' times (the conductor
        # wires it to the office's opening hours).
        self.zone_of: Callable[[ConversationID], tzinfo] = lambda _conversation: UTC

    async def command(
        self, step: Change, room_id: RoomID, sender: UserID, event_id: EventID,
        command: wd.WorkdayCommand, here: ConversationID | None,
        offices: tuple[str, ...] = (), *, several: bool = False,
        sees: Callable[[ConversationID], Awaitable[bool]] | None = None,
    ) -> None:
        """``offices``: the offices the command is about, first the likeliest (none: one
        office, or offices off); ``several``: offices are on and it is not clear which;
        ``sees``: whether the sender may know of a conversation (another office's is
        unknown to them, its notes included; default: every one)."""
        if isinstance(command, wd.NoteCommand):
            await self._note(step, room_id, sender, event_id, command, here, sees)
        elif isinstance(command, wd.NotesCommand):
            await self._notes(step, room_id, sender, command.conversation or here, sees)
        elif isinstance(command, wd.SnippetCommand):
            if here is not None:
                step.add(Redact(here, event_id))  # the youth's room stays the conversation
            await self._snippet(step, room_id, sender, command.name, offices)
        elif isinstance(command, wd.SnippetAdd | wd.SnippetRemove) and several:
            # Writing into the wrong office's set would show it to that office's staff.
            step.add(SayInRoom(room_id, sender, "snippets.which_office",
                               (("offices", ", ".join(offices) or "–"),)))
        elif isinstance(command, wd.SnippetAdd):
            office = offices[0] if offices else ""
            step.sealed.append((snippet_key(command.name, office),
                                command.text.encode("utf-8")))
            step.add(SayInRoom(room_id, sender,
                               "snippets.added_office" if office else "snippets.added",
                               (("name", command.name), ("office", office))))
        elif isinstance(command, wd.SnippetRemove):
            keys = [snippet_key(command.name, one)
                    for one in self._ids(offices[0] if offices else "")]
            found = [key for key in keys if await self.store.get_sealed_setting(key) is not None]
            if not found:
                step.add(SayInRoom(room_id, sender, "snippets.unknown",
                                   (("name", command.name),
                                    ("names", await self._names(offices)))))
            else:
                step.sealed.extend((key, None) for key in found)
                step.add(SayInRoom(room_id, sender, "snippets.removed",
                                   (("name", command.name),)))
        else:
            step.add(SayInRoom(room_id, sender, "snippets.list",
                               (("names", await self._names(offices)),)))

    async def _note(
        self, step: Change, room_id: RoomID, sender: UserID, event_id: EventID,
        command: wd.NoteCommand, here: ConversationID | None,
        sees: Callable[[ConversationID], Awaitable[bool]] | None = None,
    ) -> None:
        if here is not None:
            # In the youth's room: gone from the server at once (see conversation/notes.py
            # for what redaction cannot undo).
            step.add(Redact(here, event_id))
        conversation = command.conversation or here
        if conversation is None:
            step.add(SayInRoom(room_id, sender, "notes.which"))
            return
        if not await self._known(conversation, sees):
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
                     conversation: ConversationID | None,
                     sees: Callable[[ConversationID], Awaitable[bool]] | None = None) -> None:
        if conversation is None:
            step.add(SayInRoom(room_id, sender, "notes.which"))
            return
        if not await self._known(conversation, sees):
            step.add(SayInRoom(room_id, sender, "notes.unknown",
                               (("conversation", conversation),)))
            return
        found = await notes.read(self.store, conversation)
        if not found:
            step.add(SayInRoom(room_id, sender, "notes.none", (("conversation", conversation),)))
            return
        step.add(SayInRoom(room_id, sender, "notes.list",
                           (("conversation", conversation), ("count", len(found)),
                            ("notes", notes.formatted(found, self.zone_of(conversation))))))

    async def _known(self, conversation: ConversationID,
                     sees: Callable[[ConversationID], Awaitable[bool]] | None) -> bool:
        """The conversation exists and the sender may know of it: notes are about a youth,
        and another office's youths are not its staff's to read or write about."""
        if await self.store.room_of(conversation) is None:
            return False
        return sees is None or await sees(conversation)

    async def _snippet(self, step: Change, room_id: RoomID, sender: UserID, name: str,
                       offices: tuple[str, ...]) -> None:
        text = await self.lookup(name, offices)
        if text is None:
            step.add(SayInRoom(room_id, sender, "snippets.unknown",
                               (("name", name), ("names", await self._names(offices)))))
            return
        step.add(SayInRoom(room_id, sender, "snippets.copy", (("name", name), ("text", text))))

    async def lookup(self, name: str, offices: tuple[str, ...] = ()) -> str | None:
        """The text of ``name``: the offices' own first (stored, then configured), then the
        shared ones (stored, then configured)."""
        for office in offices:
            for one in self._ids(office):
                stored = await self.store.get_sealed_setting(snippet_key(name, one))
                if stored is not None:
                    return stored.decode("utf-8")
            configured = self.office_configured.get(office, {}).get(name)
            if configured is not None:
                return configured
        stored = await self.store.get_sealed_setting(snippet_key(name))
        return stored.decode("utf-8") if stored is not None else self.configured.get(name)

    def _ids(self, office: str) -> tuple[str, ...]:
        """The office's id, then those it had before: where its stored snippets are."""
        return (office, *self.former_ids.get(office, ())) if office else ("",)

    async def _names(self, offices: tuple[str, ...] = ()) -> str:
        names = {key.removeprefix(SNIPPET_PREFIX)
                 for key, _ in await self.store.sealed_settings(SNIPPET_PREFIX)}
        names |= set(self.configured)
        for office in offices:
            for one in self._ids(office):
                names |= {key.removeprefix(office_prefix(one))
                          for key, _ in await self.store.sealed_settings(office_prefix(one))}
            names |= set(self.office_configured.get(office, {}))
        return ", ".join(sorted(names)) if names else "–"
