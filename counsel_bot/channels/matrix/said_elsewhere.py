"""What the bot said about a conversation outside its room, taken back when it is erased.

A youth's words, or a counsellor's notes about them, reach rooms that no erasure purges: a
report's reason (typed by the youth) and the case notes at a handover in the staff room,
a mail or transcript meant for the counsellor alone in the bot's direct room with them.
The chat's purge left them there, on every colleague's app, after "ja löschen" or
retention. Each such message is noted (a sealed setting whose key ends with the
conversation's id, so it goes with the conversation's erasure), and just before the
erasure it is redacted: apps drop what they show, and the homeserver drops the content
after its `redaction_retention_period`. What a device already read stays on it.
"""

from __future__ import annotations

import logging

from nio import AsyncClient, ErrorResponse

from counsel_bot.core.effects import ABOUT_ONE_CONVERSATION
from counsel_bot.core.ids import ConversationID, RoomID
from counsel_bot.store import Store

log = logging.getLogger(__name__)

PREFIX = "said-elsewhere:"
# Staff-room texts that carry a youth's words or notes about them, and the parameter that
# names their conversation (a report from a group room names no conversation: kept). Each
# is a message of its own (`outbox_worker.coalesce`): only it is taken back.
STAFF_TEXTS = ABOUT_ONE_CONVERSATION


def about(key: str, params: dict[str, object]) -> ConversationID | None:
    """The conversation a staff-room text with a youth's words is about, if it is one."""
    name = STAFF_TEXTS.get(key)
    value = str(params.get(name, "")) if name is not None else ""
    return ConversationID(value) if value.startswith("C-") else None


async def remember(store: Store, conversation: ConversationID, room: RoomID,
                   event_id: str) -> None:
    """Noted once sent (a retry sends under the same transaction id: the same event)."""
    if event_id:
        await store.set_sealed_setting(f"{PREFIX}{event_id}:{conversation}", room.encode())


# Notes kept by `counsel retention` by hand (no login of the bot's to redact with), named
# by no conversation: the bot takes them back at its next start (`take_back_left`).
LEFT = "erased"


async def take_back(client: AsyncClient, store: Store, conversation: ConversationID, *,
                    forget: bool = False) -> int:
    """Redact every message noted for ``conversation``; the notes go with its erasure (or
    here, with ``forget``). A refusal is logged (its status only) and not retried: the
    erasure goes on."""
    taken = 0
    suffix = f":{conversation}"
    for key, room in await store.sealed_settings(PREFIX):
        if not key.endswith(suffix):
            continue
        event_id = key[len(PREFIX):-len(suffix)]
        answer = await client.room_redact(room.decode(), event_id)
        if isinstance(answer, ErrorResponse):
            log.warning("a message about erased conversation %s could not be taken back "
                        "(%s)", conversation, answer.status_code)
        else:
            taken += 1
        if forget:
            await store.set_sealed_setting(key, None)
    return taken


async def keep_for_the_bot(store: Store, conversation: ConversationID) -> None:
    """Before ``conversation`` is erased where no bot can redact (`counsel retention` by
    hand): its notes, named by no conversation any more, stay for the bot's next start."""
    suffix = f":{conversation}"
    for key, room in await store.sealed_settings(PREFIX):
        if key.endswith(suffix):
            await store.set_sealed_setting(f"{key[:-len(suffix)]}:{LEFT}", room)


async def take_back_left(client: AsyncClient, store: Store) -> int:
    """At the bot's start: what `keep_for_the_bot` kept, taken back, and its notes gone."""
    return await take_back(client, store, ConversationID(LEFT), forget=True)
