"""Someone other than the youth in a youth's room: taken out, or, where the bot may not,
the staff and the youth told that somebody reads along; a room of several youths told that
counselling is one to one."""

from __future__ import annotations

import logging

from nio import AsyncClient, ErrorResponse, MatrixRoom

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.idle_rooms import note_seen
from counsel_bot.core.clock import Clock
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.store import ConversationRecord

log = logging.getLogger(__name__)


class Strangers:
    def __init__(self, client: AsyncClient, conductor: Conductor, executor: Executor,
                 clock: Clock, default_language: Language) -> None:
        self.client = client
        self.conductor = conductor
        self.store = conductor.store
        self.executor = executor
        self.clock = clock
        self.default_language = default_language

    async def joined(self, room_id: RoomID, user: UserID, record: ConversationRecord,
                     event_id: EventID, *, invited: bool = False) -> None:
        """Someone neither staff nor the conversation's youth joined its room (the youth
        let a friend in, or a stranger by a typo): taken out at once, since a counsellor
        arriving later gets the youth's earlier words as a transcript in this room, and the
        youth is told why. Someone only ``invited`` has the invitation withdrawn: nio shares
        the room's keys with invited members, so what the bot writes meanwhile would be
        theirs to read. The bot may remove members, but not one the youth gave the bot's own
        power level: then the staff of the conversation's office and the youth are told
        that somebody reads along."""
        language = record.language
        answer = await self.client.room_kick(room_id, user,
                                             reason="a counselling chat is for one youth")
        if isinstance(answer, ErrorResponse):
            # Status only: the answer's text names the user.
            log.warning("could not take someone else out of a youth's room (%s)",
                        answer.status_code)
            await self._stays(room_id, record, event_id)
            return
        try:
            await self.executor.send(room_id, text(
                "stranger_uninvited" if invited else "stranger_removed", spoken(language)),
                key=f"stranger-removed:{event_id}")
        except EffectFailed as failure:
            log.warning("could not tell a youth why someone was removed (%s)", failure)

    async def _stays(self, room_id: RoomID, record: ConversationRecord,
                     event_id: EventID) -> None:
        current = self.conductor.router.conversation(record.conversation)
        counsellor = None if current is None else current.assigned_to
        step = Change(self.clock.now(), None)
        step.add(SayToStaff("staff_stranger_stays", (("conversation", record.conversation),),
                            mentions=(counsellor,) if counsellor else ()),
                 f"stranger-stays-staff:{event_id}")
        await self.conductor.commit(step)
        try:
            await self.executor.send(room_id, text("stranger_stays", spoken(record.language)),
                                     key=f"stranger-stays:{event_id}")
        except EffectFailed as failure:
            log.warning("could not tell a youth that someone else stays (%s)", failure)

    async def one_to_one_only(self, room: MatrixRoom, others: list[str]) -> None:
        """A room without a conversation where several members not on staff are: nobody
        is its youth, so nobody's words are taken. Told once that counselling is one to
        one, how to start it, and the numbers, since one of them may need help now."""
        room_id = RoomID(room.room_id)
        told = f"shared_told:{room_id}"
        if len(others) < 2 or await self.store.conversation_by_room(room_id) is not None:
            return
        if await self.store.get_setting(told):
            # Words there are activity: a room its youths still use is not purged as idle
            # (`idle_rooms`), only one they left alone for the retention period.
            await note_seen(self.store, room_id, self.clock.now())
            return
        language = self.default_language
        try:
            await self.executor.send(room_id, text(
                "shared_room", language, emergency=self.conductor.policy.emergency[language]),
                key=told)
        except EffectFailed as failure:
            log.warning("could not tell a shared room to write one to one (%s)", failure)
            return
        await self.store.set_setting(told, "1")
        # No conversation's retention finds this room: purged once idle (`idle_rooms`).
        await note_seen(self.store, room_id, self.clock.now())
