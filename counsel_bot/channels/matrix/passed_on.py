"""The copies of a youth's words the bot passed on to their counsellor (written in a second
chat or in the first room of a move: `YouthMoves.taken_along`), and their taking back: a
youth who deletes or edits such a message took it back from the transcript
(`YouthSide.taken_back`), and the copy in the counsellor's chat goes with it, as the message
itself would vanish from the counsellor's app had it been written there. A line the
transcript keeps (a crisis) stays for the counsellor too."""

from __future__ import annotations

import logging

from nio import AsyncClient, RoomRedactError

from counsel_bot.conversation.youth_side import edit_intake_id
from counsel_bot.core.ids import EventID, RoomID
from counsel_bot.store import Store

log = logging.getLogger(__name__)

# ``passed_on:<message>:<room written in>`` = ``<room passed on to>|<the copy>``: erased with
# either room (`forget_settings_of`, `names_conversation`). An edit's copy is kept under the
# message it edits (each edit's relation names the original), replacing the one before, and
# under its own id (an app without edits shows it as a message, deleted by that id).
PASSED_ON_PREFIX = "passed_on:"


def _key(message: EventID, written_in: RoomID) -> str:
    return f"{PASSED_ON_PREFIX}{message}:{written_in}"


async def remember(store: Store, written_in: RoomID, message: EventID, passed_to: RoomID,
                   copy: str) -> None:
    if copy:
        await store.set_setting(_key(message, written_in), f"{passed_to}|{copy}")


async def take_back(client: AsyncClient, store: Store, written_in: RoomID,
                    message: EventID) -> None:
    """``message``, written in ``written_in``, was deleted or edited (after its words were
    taken back from the transcript): its copy is deleted unless the transcript kept them."""
    key = _key(message, written_in)
    value = await store.get_setting(key)
    if not value:
        return
    passed_to, _, copy = value.partition("|")
    record = await store.conversation_by_room(RoomID(passed_to))
    # As `YouthSide.taken_back` finds the words: the message, its edits, or an edit itself.
    edits, itself = edit_intake_id(message, EventID("")), edit_intake_id(EventID(""), message)
    if record is not None and any(
            item.event_id == message or item.event_id.startswith(edits)
            or item.event_id.endswith(itself)
            for item in await store.read_intake(record.conversation)):
        return  # kept for a later counsellor (a crisis): so for this one
    answer = await client.room_redact(passed_to, copy)
    if isinstance(answer, RoomRedactError):
        log.warning("the copy of a message the youth took back was not deleted (%s)",
                    answer.status_code)
        return
    await store.move_to_sealed(key, None)  # None: only deleted
