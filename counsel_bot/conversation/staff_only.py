"""Replies to staff commands given in a youth's conversation room (the group and forum
commands), taken to the staff room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.offices import room_for, staff_office
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.ids import RoomID

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


async def staff_only(conductor: Conductor, step: Change, room_id: RoomID) -> Change:
    """Replies to staff commands given in a youth's conversation room go to the staff room:
    the youth must not read about other youths' groups or forum posts. With offices, the
    conversation's office's, as other commands' replies there (the main one is read by
    every office), or the sender's own when they are not in it (`room_for`)."""
    record = await conductor.store.conversation_by_room(room_id)
    if record is not None:
        office = staff_office(record.conversation, conductor.router,
                              conductor.policy.router.offices, conductor.policy.offices) \
            if conductor.policy.offices.enabled else ""
        book = conductor.policy.offices
        step.effects = [(SayToStaff(e.key, e.params, mentions=(e.to,),
                                    office=room_for(book, office, e.to))
                         if isinstance(e, SayInRoom) else e, tag) for e, tag in step.effects]
    return step
