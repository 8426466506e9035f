"""What the staff are told of the bot's own troubles: an effect set aside or given up (and
whose conversation it was for), a staff room that replaces a lost one, staff who could not
be invited into a new one. Each goes through the outbox: a stop before it is sent does not
lose it."""

from __future__ import annotations

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.effects import Effect, SayToStaff, StaffDigest
from counsel_bot.core.ids import ConversationID, RoomID, UserID


class StaffTold:
    def __init__(self, conductor: Conductor, clock: Clock) -> None:
        self.conductor = conductor
        self.clock = clock

    async def effect_given_up(self, effect: Effect | StaffDigest) -> None:
        """Refused for good by the homeserver and given up: the staff are told, as of an
        effect set aside. Not of a staff notice: the staff room refused it, so telling them
        there cannot help (the log and the dropped-effects counter say it)."""
        if not isinstance(effect, SayToStaff | StaffDigest):
            await self.effect_set_aside(effect, refused=True)

    async def effect_set_aside(self, effect: Effect | StaffDigest, *,
                               refused: bool = False) -> None:
        conversation = getattr(effect, "conversation", None)
        if isinstance(effect, SayToStaff):
            # Among its parameters: without it, the staff learnt that a crisis alert was
            # lost, not whose.
            conversation = dict(effect.params).get("conversation")
        key = getattr(effect, "key", None)
        what = type(effect).__name__ + (f" {key}" if isinstance(key, str) else "")
        await self.conductor.effect_set_aside(
            what, ConversationID(conversation) if isinstance(conversation, str) else None,
            self.clock.now(), refused=refused)

    async def room_replaced(self, room_id: RoomID, office: str) -> None:
        """Said first in a staff room that replaces a lost one (in the outbox: a stop before
        it is sent does not lose it)."""
        step = Change(self.clock.now(), None)
        step.add(SayToStaff("staff_room_replaced", office=office),
                 f"staff-room-replaced:{room_id}")
        await self.conductor.commit(step)

    async def not_invited(self, room_id: RoomID, office: str,
                          users: list[UserID]) -> None:
        """Said in a new staff room that some staff could not be invited into (their app
        blocks invitations): the others ask them to allow them (in the outbox: a stop before
        it is sent does not lose it)."""
        step = Change(self.clock.now(), None)
        step.add(SayToStaff("staff_room_not_invited", (("users", ", ".join(users)),),
                            office=office), f"staff-room-not-invited:{room_id}")
        await self.conductor.commit(step)
