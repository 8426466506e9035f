"""What a youth's message does: opens a conversation (the intake's first message), answers
the office question or a proposed appointment, runs a youth command ("ende", "löschen",
"video", "mail", ...), is kept as sealed intake and checked for a crisis, all in the one
`Change` of its event; except that a counsellor's invitation is committed before the crisis
check, with a durable note that the check is still due (see `_invite_first`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from counsel_bot.conversation import crisis_flags, deletion, feedback, offices, youth_traces
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.crisis_flags import RaisedFlag
from counsel_bot.conversation.group_crisis import flag_conversation, offer_key, offered_flag
from counsel_bot.conversation.idle_rooms import note_seen
from counsel_bot.conversation.welcome import nobody_on_duty, out_of_hours, welcome
from counsel_bot.core import commands as cmd
from counsel_bot.core.effects import (
    InviteYouth,
    Leave,
    SayToStaff,
    SayToYouth,
    SetTopic,
    chat_ended_key,
)
from counsel_bot.core.errors import MailAddressRefused
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.incoming_text import (
    case_code_in,
    mail_address,
    meant_as_mail_address,
    storable,
)
from counsel_bot.core.language import told_language
from counsel_bot.core.messages import Language, spoken, youth_words
from counsel_bot.core.routing import Assign
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import Channel, ConversationState, CrisisStatus
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.store import ConversationRecord, IntakeMessage, NewConversation

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

log = logging.getLogger(__name__)


def new_conversation_id() -> ConversationID:
    """Short, unguessable, safe to show staff and to log: it reveals nothing about the youth."""
    return ConversationID("C-" + secrets.token_hex(4).upper())


MAIL_ASKED_PREFIX = "mail_asked:"
# How long "mail" waits for the address, counted from the question or the last address given:
# past a code's hour (its expiry and "too many codes" ask for the address again an hour
# later), but not for ever ("otherwise just keep writing"): an address written days later
# answers the counsellor, and is no code mail to whoever it belongs to (a teacher, a bully).
MAIL_QUESTION_LASTS = timedelta(days=1)
LANGUAGE_OPEN_PREFIX = "language_open:"


def language_open_key(conversation: ConversationID) -> str:
    """A setting: the words that opened the conversation did not tell the youth's language
    (erased with the conversation)."""
    return f"{LANGUAGE_OPEN_PREFIX}{conversation}"


def mail_asked_key(conversation: ConversationID) -> str:
    """A setting: the youth was asked for their mail address (erased with the conversation;
    the address itself is never kept here)."""
    return f"{MAIL_ASKED_PREFIX}{conversation}"


def edit_intake_id(original: EventID, edit: EventID) -> EventID:
    """The id an edit's words are kept under: unique (the edit's own id is in it) and
    found again from the message it edits."""
    return EventID(f"{original}~edit~{edit}")


class YouthSide:
    def __init__(self, conductor: Conductor) -> None:
        self.conductor = conductor
        # Youths asked for their mail address (the mail channel switches them), and when they
        # were asked or last gave one (`MAIL_QUESTION_LASTS`).
        self.mail_asked: dict[ConversationID, datetime] = {}
        # Closed conversations whose room the bot leaves, and when (`feedback.LEAVE_AFTER`).
        self.leaving: dict[ConversationID, datetime] = {}
        # Conversations whose language their first words did not tell (`_language_told`).
        self.language_open: set[ConversationID] = set()

    async def wrote(
        self, room_id: RoomID, youth: UserID, nickname: str | None, event_id: EventID,
        body: str, at: datetime, *, attachment: bool = False, edits: EventID | None = None,
        told: str | None = "attachment_note",
    ) -> None:
        """``edits``: the message this one corrects; its words are kept under an id naming
        that message, so deleting it takes every edit back with it (`taken_back`).
        ``told``: what the youth is told of an ``attachment`` the bot cannot pass on (None:
        nothing, their counsellor sees it)."""
        c = self.conductor
        if await c.store.is_processed(event_id):
            return
        for addon in c.addons:
            if await addon.youth_wrote(room_id, youth, event_id, body, at):
                # Words a forum or group took (a post, a sign-up): in a room without a
                # conversation, its idle time starts again (`idle_rooms`).
                await note_seen(c.store, room_id, at)
                return
        body = storable(body)
        step = Change(at, event_id)
        # What the crisis check judges: the message, or the burst it ends after a close.
        checked = body
        record = await c.store.conversation_by_room(room_id)
        if record is not None and record.state is ConversationState.CLOSED:
            # A yes or no to a proposal made before the close is still its answer.
            if c.appointments.youth_answered(step, record.conversation, body):
                await self._stay_or_leave(step, record.conversation)
                return
            if await self._deletes_after_close(step, record, body):
                return
            reopening = await self._reopens(step, record, body, edit=edits is not None)
            if reopening is None:
                return
            checked = reopening
        code = case_code_in(body) if record is None else None
        if code is not None and c.redeem_case_code is not None:
            invited = await c.redeem_case_code(step, code)
            if invited is not None:
                step.add(InviteYouth(invited, youth, room_id))
                await c.commit(step)
                return
        if record is None:
            offer = await self._offer_taken(step, room_id)
            conversation = self.open(step, room_id, youth, nickname, body)
            self._carries(step, conversation, offer)
        else:
            conversation = record.conversation
        asked = self._mail_asked(conversation, at)
        address = mail_address(body) if asked else None
        if address is not None and c.mail_switch is not None:
            self._ask_mail(step, conversation)  # its code waits as long as the question
            try:
                await c.mail_switch(step, conversation, address)
            except MailAddressRefused:
                step.add(SayToYouth(conversation, "mail.address_unusable"))
            else:
                if c.mail_code is None:
                    self._mail_settled(step, conversation)
            await c.commit(step)  # the address itself is not kept as intake
            return
        if asked and c.mail_code is not None:
            proven = await c.mail_code(step, conversation, body)
            if proven is not None:
                if proven:
                    self._mail_settled(step, conversation)
                await c.commit(step)  # a code is no message for the counsellor
                return
        if asked and meant_as_mail_address(body):
            step.add(SayToYouth(conversation, "mail.address_unusable"))
        if record is not None and record.channel is Channel.MAIL and (
                youth == record.youth_user_id
                or not await c.store.get_setting(chat_ended_key(conversation))):
            c.handle(step, [ev.ChannelChanged(at, conversation, Channel.CHAT)], reply_room=None)
            step.add(SayToYouth(conversation, "channel.chat"))
            step.add(SetTopic(conversation, "chat"))
            c.timers.back_in_chat(step, conversation)
        # A burst that opened it again is kept whole: its earlier lines, judged with this
        # one, are what the counsellor called back has to read.
        kept_as = event_id if edits is None else edit_intake_id(edits, event_id)
        step.intake.append(IntakeMessage(conversation, kept_as, checked.encode("utf-8")))
        if record is not None and not attachment:
            named = None if cmd.parse_youth(body) is not None else cmd.language_asked(body)
            if named is not None:
                # Before the crisis check: its safety text and numbers come in it.
                self._language_named(step, conversation, named)
            else:
                self._language_told(step, conversation, body)
        c.timers.youth_wrote(step, conversation)
        if attachment:
            if told is not None:
                step.add(SayToYouth(conversation, told))
        # A first message is never a command, even "ende", but for the "hilfe" the greeting
        # invites and a "löschen": a youth who only posted in the forum or signed up for a
        # group from here asks for that to go, and is asked to confirm at once (read as
        # words, "ja löschen" was refused until they asked again); nor an answer to the
        # office question; a "ja" to a proposed appointment is its answer.
        elif record is None:
            command = cmd.parse_youth(body)
            if command is not None and command.kind is cmd.YouthCommandKind.HELP:
                self._help(step, conversation)
            elif command is not None and command.kind is cmd.YouthCommandKind.DELETE:
                deletion.ask(step, conversation, can_delete=c.can_delete())
        elif (not self._settle_office(step, conversation, body)
              and not c.appointments.youth_answered(step, conversation, body)):
            await self._command(step, conversation, body)
        if any(isinstance(effect, Assign) and effect.conversation == conversation
               for effect, _ in step.effects):
            await self._invite_first(step, conversation, kept_as, checked)
            return
        await self.check_crisis(step, conversation, checked)
        await c.commit(step)

    async def _invite_first(self, step: Change, conversation: ConversationID, event_id: EventID,
                            body: str) -> None:
        """Commit the invitation, then check the message for a crisis in a second commit.

        The detector's model takes milliseconds that the counsellor's invitation need not
        wait for (issue 16's routing figure); what a flag changes (the alert, the youth's
        safety text, the router's flag) follows one commit later. The first commit notes that
        the check is due, so a crash between the two cannot skip it: the next start runs it
        (`finish_crisis_checks`). The note names only the event; the message is in the
        sealed intake."""
        c = self.conductor
        due = crisis_flags.due_key(conversation)
        step.sealed.append((due, event_id.encode()))
        if not await c.commit(step):
            return  # handled before: its check was done or noted then
        # The check's model competed with sending the invitation (bench.office_latency: the
        # bot's part 38 ms with it beside, 29 ms after it), so it waits for the answer: at
        # most 50 ms for all such checks of one sync batch (the bot's budget).
        await c.urgent_answered()
        check = Change(step.at, None)
        check.sealed.append((due, None))
        await self.check_crisis(check, conversation, body)
        await c.commit(check)

    def _mail_settled(self, step: Change, conversation: ConversationID) -> None:
        self.mail_asked.pop(conversation, None)
        step.settings.append((mail_asked_key(conversation), ""))

    def _ask_mail(self, step: Change, conversation: ConversationID) -> None:
        # Kept in the store too: the answer may come after a restart.
        self.mail_asked[conversation] = step.at
        step.settings.append((mail_asked_key(conversation), step.at.isoformat()))

    def _mail_asked(self, conversation: ConversationID, at: datetime) -> bool:
        asked = self.mail_asked.get(conversation)
        return asked is not None and at - asked <= MAIL_QUESTION_LASTS

    async def finish_crisis_checks(self, at: datetime) -> None:
        """At start: the crisis checks a crash left undone after their invitation. The
        message is judged alone (the window of short messages is in memory only, as after
        any restart). A check that fails keeps its note for the next start and does not
        stop this one: the outbox (the invitation among it) must still go out."""
        c = self.conductor
        for key, event in await c.store.sealed_settings(crisis_flags.DUE_PREFIX):
            conversation = ConversationID(key.removeprefix(crisis_flags.DUE_PREFIX))
            step = Change(at, None)
            step.sealed.append((key, None))
            body = next((item.body for item in await c.store.read_intake(conversation)
                         if item.event_id == event.decode()), None)
            try:
                if body is None or c.router.conversation(conversation) is None:
                    # Defensive: the intake goes only with a close or an erasure (which
                    # takes this note too), and neither happens while the bot is down.
                    log.warning("crisis check of %s due, its message is gone", conversation)
                else:
                    await self.check_crisis(step, conversation, body.decode("utf-8"))
                await c.commit(step)
            except Exception as exc:  # the start must go on (see above)
                # The kind only: an error's text might quote the message.
                log.error("crisis check of %s failed (%s); tried again at the next start",
                          conversation, type(exc).__name__)
                await self._unchecked(conversation, event.decode(), at)

    async def _unchecked(self, conversation: ConversationID, event: str, at: datetime) -> None:
        """A check that failed at the start failed before it too (the bot stopped on it) or
        died with the process: the model may fail on this message every time, and a log
        line alone tells nobody that it may be a crisis. The staff are alerted as for a
        message set aside (failures.py), once per message (the key); the note stays, so a
        later start that can judge it still raises its flag."""
        c = self.conductor
        try:
            await c.transitions.reload(at)  # the failed check may have moved the router
            step = Change(at, None)
            step.add(SayToStaff("staff_message_set_aside", (("conversation", conversation),)),
                     f"crisis_unchecked:{conversation}:{event}")
            await c.commit(step)
        except Exception as exc:
            log.error("the staff could not be alerted to %s's unchecked message (%s)",
                      conversation, type(exc).__name__)

    async def taken_back(self, room_id: RoomID, youth: UserID, original: EventID) -> None:
        """The youth deleted or edited a message in their app (a name, a school, written
        and regretted): a counsellor who joins later gets a transcript without it (an
        edit's new words come as a message of their own, marked "* "). Unless it may
        be a crisis: a line flagged alone, or any line once the conversation had a flag
        (the lines around a crisis are what its counsellor has to read), stays, as a
        crisis deleted in shame must still reach somebody. A counsellor already there saw
        it, and their app shows the deletion."""
        c = self.conductor
        record = await c.store.conversation_by_room(room_id)
        if record is None or record.youth_user_id != youth:
            return
        current = c.router.conversation(record.conversation)
        if current is None or current.crisis is not CrisisStatus.NONE:
            return
        # The message and every edit of it: an edit's relation names the original, never
        # the edit before, and apps delete an edited message by deleting the original. An
        # app without edits shows one as a message of its own, deleted by its own id.
        edits = edit_intake_id(original, EventID(""))
        itself = edit_intake_id(EventID(""), original)
        for item in await c.store.read_intake(record.conversation):
            if (item.event_id == original or item.event_id.startswith(edits)
                    or item.event_id.endswith(itself)) \
                    and not await c.crisis.flags_alone(item.body.decode("utf-8", "replace")):
                await c.store.delete_intake_message(record.conversation, item.event_id)

    async def sent_unreadable(self, room_id: RoomID, event_id: EventID, at: datetime) -> None:
        await self._tell_once(room_id, event_id, at, "attachment_note")

    async def asked_verification(self, room_id: RoomID, event_id: EventID,
                                 at: datetime) -> None:
        """The youth asked the bot for a key verification in their room: no words of theirs
        (neither kept nor opening a conversation; the welcome asked them to write). In
        their conversation they are told it is not taken, or their app waits for it."""
        await self._tell_once(room_id, event_id, at, "verification_not_here")

    async def _tell_once(self, room_id: RoomID, event_id: EventID, at: datetime,
                         key: str) -> None:
        """Text ``key`` to the youth of the room's conversation, once for ``event_id``."""
        c = self.conductor
        record = await c.store.conversation_by_room(room_id)
        if record is None or await c.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        step.add(SayToYouth(record.conversation, key))
        await c.commit(step)

    async def reached_out(
        self, room_id: RoomID, youth: UserID, nickname: str | None, at: datetime
    ) -> None:
        """A message the bot cannot decrypt (yet) still means a youth is reaching out: open
        the conversation so a counsellor comes, whose client may well read it. The event id
        is not claimed, so the message is kept if its key arrives later."""
        if await self.conductor.store.conversation_by_room(room_id) is not None:
            return
        step = Change(at, None)
        self.open(step, room_id, youth, nickname, "")
        await self.conductor.commit(step)

    async def _deletes_after_close(self, step: Change, record: ConversationRecord,
                                   body: str) -> bool:
        """"löschen" / "ja löschen" after the close: the chat and the account are deleted
        as in an open conversation (True, committed here). The bot stays in the room until
        the confirmation's time is up, so the "ja löschen" is read."""
        command = cmd.parse_youth(body)
        kind = None if command is None else command.kind
        conversation = record.conversation
        if kind is cmd.YouthCommandKind.DELETE:
            deletion.ask(step, conversation, can_delete=self.conductor.can_delete())
            await self._stay_or_leave(step, conversation,
                                      at_least=step.at + deletion.DELETE_CONFIRM_WITHIN)
        elif kind is cmd.YouthCommandKind.CONFIRM_DELETE:
            if await self._delete_confirmed(step, conversation, closed=record):
                await self.conductor.commit(step)
            else:
                await self._stay_or_leave(step, conversation)
        else:
            return False
        return True

    async def _reopens(self, step: Change, record: ConversationRecord,
                       body: str, *, edit: bool = False) -> str | None:
        """Crisis words after the close (often in answer to the score question, when the
        youth could not say it before; also split over short lines) open the conversation
        again, in the same room: the words that flagged (for its crisis check), and the
        message goes on as any other (queued first, staff alerted, the numbers given); the
        youth is told someone comes back. Anything else written after the close is pointed
        to a new chat (`feedback.after_close`), committed here: None."""
        c = self.conductor
        words = None if feedback.score(body) is not None else \
            await c.crisis.flags_after_close(record.conversation, body, step.at)
        offer = None if feedback.score(body) is not None else \
            await self._offer_taken(step, record.room_id)
        if words is None and offer is not None:
            words = body  # "ja": the 1:1 a group's crisis offered here (`offer_key`)
        if words is None:
            await self._after_close(step, record, body, edit=edit)
            return None
        conversation = record.conversation
        if self.leaving.pop(conversation, None) is not None:
            step.sealed.append((feedback.leave_key(conversation), None))
        c.rooms[conversation] = record.room_id
        c.crisis.reopened(conversation)
        c.handle(step, [ev.ConversationOpened(step.at, conversation, language=record.language,
                                              office=record.office,
                                              assignments=record.assignments)],
                 reply_room=None)
        step.add(SayToYouth(conversation, "reopened_for_youth"),
                 f"reopened:{conversation}:{step.at.isoformat()}")
        self._carries(step, conversation, offer)
        return words

    async def _offer_taken(self, step: Change, room_id: RoomID) -> RaisedFlag | None:
        """The youth writes in their room within a day of a 1:1 a group's crisis offered
        there (`group_crisis.offer_key`): the offer is taken up (and used up), and the
        group's flag is what the chat it opens carries."""
        key = offer_key(room_id)
        offered = await self.conductor.store.get_setting(key)
        if not offered:
            return None
        step.settings.append((key, None))  # the key too: it names the room
        return offered_flag(offered, step.at)

    def _carries(self, step: Change, conversation: ConversationID,
                 offer: RaisedFlag | None) -> None:
        """The chat an offer's answer opened carries the group's flag: first in the queue,
        named to those who may take it, a lead paged if nobody does. Counted, and the youth
        given the numbers, with the offer already."""
        current = self.conductor.router.conversation(conversation)
        if offer is not None and current is not None:
            flag_conversation(self.conductor, step, current, offer, youth_told=False,
                              counted=True)

    async def _after_close(self, step: Change, record: ConversationRecord, body: str, *,
                           edit: bool = False) -> None:
        c = self.conductor
        conversation = record.conversation
        scored = await c.store.get_setting(feedback.setting_key(conversation)) is not None
        closing = f":{record.closed_at.isoformat()}" if record.closed_at else ""
        language = spoken(record.language)
        emergency = c.policy.emergency_for(record.office)[language]
        feedback.after_close(step, conversation, body, scored_before=scored, closing=closing,
                             emergency=emergency, edit=edit)
        await self._stay_or_leave(step, conversation)

    async def _stay_or_leave(self, step: Change, conversation: ConversationID, *,
                             at_least: datetime | None = None) -> None:
        """Commit ``step``, the bot leaving the closed room `LEAVE_AFTER` from now (and not
        before ``at_least``); with an appointment to come (or a proposal to answer) it
        stays: the answer, the reminders and the call come to this room. A leave planned
        before such a yes is called off."""
        c = self.conductor
        leave_at = None
        planned = self.leaving.get(conversation)
        if c.appointments.upcoming(conversation, step.at):
            if self.leaving.pop(conversation, None) is not None:
                step.sealed.append((feedback.leave_key(conversation), None))
        elif planned is None or (at_least is not None and planned < at_least):
            leave_at = max(step.at + feedback.LEAVE_AFTER, at_least or step.at)
            step.sealed.append((feedback.leave_key(conversation),
                                leave_at.isoformat().encode()))
        if await c.commit(step) and leave_at is not None:
            self.leaving[conversation] = leave_at

    async def load_waiting(self) -> None:
        """At start: the rooms the bot is to leave, and when; the youths asked for their
        mail address."""
        for key, value in await self.conductor.store.settings(MAIL_ASKED_PREFIX):
            try:
                asked = datetime.fromisoformat(value)
            except ValueError:
                continue  # "" (settled), or "1" of older versions: no time, so long past
            self.mail_asked[ConversationID(key.removeprefix(MAIL_ASKED_PREFIX))] = asked
        for key, value in await self.conductor.store.settings(LANGUAGE_OPEN_PREFIX):
            if value:
                self.language_open.add(ConversationID(key.removeprefix(LANGUAGE_OPEN_PREFIX)))
        for key, when in await self.conductor.store.sealed_settings(feedback.LEAVE_PREFIX):
            conversation = ConversationID(key.removeprefix(feedback.LEAVE_PREFIX))
            self.leaving[conversation] = datetime.fromisoformat(when.decode())

    async def leave_due(self, step: Change, at: datetime) -> None:
        """Leave the closed rooms whose time has come (the executor stays in one opened
        again meanwhile). A room a part still has to write to (a seat in a group not over
        yet: its invitation, a call-off) is kept, as for an appointment to come."""
        for conversation, when in list(self.leaving.items()):
            if when <= at:
                del self.leaving[conversation]
                step.sealed.append((feedback.leave_key(conversation), None))
                record = await self.conductor.store.conversation(conversation)
                if record is not None and any(addon.holds_room(record.room_id, at)
                                              for addon in self.conductor.addons):
                    continue
                step.add(Leave(conversation), f"leave:{conversation}:{when.isoformat()}")

    def open(
        self, step: Change, room_id: RoomID, youth: UserID, nickname: str | None, body: str
    ) -> ConversationID:
        c = self.conductor
        conversation = new_conversation_id()
        command = cmd.parse_youth(body)
        named = cmd.language_asked(body) if command is None else command.language
        told = named or told_language(body)
        language = told or c.policy.default_language
        if told is None:
            # Decided by the first words that tell it (`_language_told`): an English-writing
            # youth whose first message was a picture or not decrypted yet read German.
            self.language_open.add(conversation)
            step.settings.append((language_open_key(conversation), "1"))
        step.new.append(NewConversation(conversation, room_id, youth, nickname))
        c.rooms[conversation] = room_id
        book = c.policy.offices
        office = offices.first_office(book, body, language)
        if told is None:
            # Still open (`language_open`): the youth's first words that tell it decide.
            language = offices.answering_language(book, office, language)
        c.handle(step, [ev.ConversationOpened(step.at, conversation, language=language,
                                              office=office)], reply_room=None)
        welcome(step, conversation, language, default_language=c.policy.default_language,
                hours=offices.hours_of(book, office, c.policy.hours),
                emergency=c.policy.emergency_for(office),
                mail=c.mail_switch is not None,
                own_text=offices.closed_text(book, office, language))
        offices.announce(step, book, conversation, office, language)
        return conversation

    def _language_told(self, step: Change, conversation: ConversationID, body: str) -> None:
        """The first words that tell the language of a youth whose first message did not
        decide it: from now on in it (routing too), greeted again in it as the welcome
        greets one whose first words told it. Decided once: a German word later does not
        switch an English-writing youth back."""
        told = None if conversation not in self.language_open else told_language(body)
        if told is not None:
            self._in_language(step, conversation, told)

    def _language_named(self, step: Change, conversation: ConversationID,
                        language: Language) -> None:
        """"english", "auf deutsch": from now on in it, whatever told the language before
        (one "ok thanks" could), confirmed in it; a youth still waiting hears the wait and
        the numbers again in it."""
        c = self.conductor
        before = c.router.conversation(conversation)
        self._in_language(step, conversation, language)
        if before is not None and before.language != language and before.assigned_to is None \
                and language == c.policy.default_language:
            # `_in_language` tells the wait again only in a language other than the join
            # greeting's; back in that one, the numbers were last said in the other.
            self._wait_told_again(step, conversation, language)
        emergency = c.policy.emergency_for("" if before is None else before.office)[language]
        if before is not None and before.language != language \
                and before.crisis is not CrisisStatus.NONE \
                and not any(isinstance(effect, SayToYouth) and effect.conversation == conversation
                            and ("emergency", emergency) in effect.params
                            for effect, _ in step.effects):
            # The safety text came once, in the language the youth just left (maybe one
            # they do not read): the numbers again in this one, with a counsellor there too.
            step.add(SayToYouth(conversation, "language_changed_safety",
                                (("emergency", emergency),)))
        else:
            step.add(SayToYouth(conversation, "language_changed"))

    def _in_language(self, step: Change, conversation: ConversationID,
                     language: Language) -> None:
        c = self.conductor
        if conversation in self.language_open:
            self.language_open.discard(conversation)
            step.settings.append((language_open_key(conversation), ""))
        current = c.router.conversation(conversation)
        if current is None or current.language == language:
            return
        c.handle(step, [ev.LanguageTold(step.at, conversation, language)], reply_room=None)
        if language != c.policy.default_language and current.assigned_to is None:
            # Still waiting: what happens next, in words they read ("someone joins" would
            # be untrue with the counsellor there).
            step.add(SayToYouth(conversation, "greeting"), f"greet:{conversation}")
            self._wait_told_again(step, conversation, language)

    def _wait_told_again(self, step: Change, conversation: ConversationID,
                         language: Language) -> None:
        """After the greeting in the language just told: the chat closed, or nobody on duty,
        and where help is meanwhile, as the welcome tells one whose first words told it. The
        greeting alone promised "a counsellor joins as soon as one is free" at night, and the
        numbers were only in the welcome's language. Not while the office is undecided: the
        answer to its question tells it."""
        c = self.conductor
        current = c.router.conversation(conversation)
        if current is None or current.office == UNDECIDED:
            return
        book = c.policy.offices
        hours = offices.hours_of(book, current.office, c.policy.hours)
        emergency = c.policy.emergency_for(current.office)[language]
        if not hours.is_open(step.at):
            step.add(out_of_hours(conversation, step.at, hours, emergency,
                                  mail=c.mail_switch is not None,
                                  own_text=offices.closed_text(book, current.office,
                                                               language),
                                  language=language),
                     f"ooh:{conversation}:{language}")
        elif not c.policy.router.offices.anyone_takes(current, c.router.snapshot().counsellors):
            step.add(SayToYouth(conversation, "nobody_on_duty", (("emergency", emergency),)),
                     f"nobody-on-duty:{conversation}:{language}")

    def _settle_office(self, step: Change, conversation: ConversationID, body: str) -> bool:
        """The youth's answer to the office question (not a command like "ende"), in the
        conversation's language as it is now: the answer may be what told it."""
        c = self.conductor
        current = c.router.conversation(conversation)
        if current is None or current.office != UNDECIDED or cmd.parse_youth(body) is not None:
            return False
        lang = spoken(current.language)
        if conversation in self.language_open:
            # Nothing told the language yet: an office that counsels in another one our
            # texts have is answered in it from here (the youth's own words still decide).
            office, _ = offices.answer_office(c.policy.offices, body, lang)
            told = offices.answering_language(c.policy.offices, office, lang)
            if told != lang:
                c.handle(step, [ev.LanguageTold(step.at, conversation, told)],
                         reply_room=None)
                lang = told
        chosen = offices.answered(step, c.policy.offices, conversation, body, lang,
                                  default_hours=c.policy.hours,
                                  default_emergency=c.policy.emergency,
                                  mail=c.mail_switch is not None)
        c.handle(step, [chosen], reply_room=None)
        offices.tell_office(step, conversation, chosen.office, lang)
        self._nobody_on_duty(step, conversation, chosen.office, lang)
        return True

    def office_known(self, step: Change, conversation: ConversationID, office: str) -> None:
        """The office question went unanswered and the fallback office has the youth (its
        `OfficeChosen` handled in ``step``; `offices.unanswered` told them when it opens):
        open with nobody on duty, told where help is, as one who answers is. The welcome held
        the numbers back while the office was undecided, and a youth too low to answer needs
        them most."""
        c = self.conductor
        current = c.router.conversation(conversation)
        if current is None or current.crisis is not CrisisStatus.NONE:
            return  # the safety text gave the numbers already
        self._nobody_on_duty(step, conversation, office, spoken(current.language))

    def _nobody_on_duty(self, step: Change, conversation: ConversationID, office: str,
                        lang: Language) -> None:
        c = self.conductor
        book = c.policy.offices
        if offices.hours_of(book, office, c.policy.hours).is_open(step.at):
            nobody_on_duty(step, conversation, c.policy.emergency_for(office)[lang])

    async def _command(self, step: Change, conversation: ConversationID, body: str) -> None:
        c = self.conductor
        command = cmd.parse_youth(body)
        if command is None:
            return
        kind = command.kind
        if kind is cmd.YouthCommandKind.HELP:
            self._help(step, conversation)
        elif kind is cmd.YouthCommandKind.END:
            if c.router.conversation(conversation) is None:
                return
            c.handle(step, [ev.YouthEnded(step.at, conversation)], reply_room=None)
            # Told it worked, and asked for the optional score, as when a counsellor closes.
            step.add(SayToYouth(conversation, "closed_for_youth"),
                     f"ended:{conversation}:{step.at.isoformat()}")
        elif kind is cmd.YouthCommandKind.VIDEO:
            current = c.router.conversation(conversation)
            c.video.by_youth(step, conversation, current, counsellor_name=c.counsellor_name(
                None if current is None else current.assigned_to))
        elif kind is cmd.YouthCommandKind.MAIL:
            if c.mail_switch is None:
                step.add(SayToYouth(conversation, "mail.off"))
            else:
                self._ask_mail(step, conversation)
                step.add(SayToYouth(conversation, "mail.ask_address"))
        elif kind is cmd.YouthCommandKind.DELETE:
            deletion.ask(step, conversation, can_delete=c.can_delete())
        elif kind is cmd.YouthCommandKind.CONFIRM_DELETE:
            await self._delete_confirmed(step, conversation)
        elif kind is cmd.YouthCommandKind.LANGUAGE and command.language is not None:
            self._language_named(step, conversation, command.language)
            current = c.router.conversation(conversation)
            if current is not None and current.office == UNDECIDED:
                # The office question is still open, asked in the other language: a youth
                # who cannot read it would be sent to the fallback office.
                offices.ask_again(step, c.policy.offices, conversation, command.language)
        else:
            step.add(SayToYouth(conversation, "not_available_yet"))

    def _help(self, step: Change, conversation: ConversationID) -> None:
        """"Hilfe!" may be a cry for help: the numbers (the office's, as in the welcome),
        first; the welcome's "nobody on duty" would only say them again."""
        c = self.conductor
        current = c.router.conversation(conversation)
        office = "" if current is None else current.office
        emergency = c.policy.emergency_for(office)
        language = c.policy.default_language if current is None else spoken(current.language)
        _without_nobody_on_duty(step, conversation)
        words = youth_words(language, video=c.video.settings.enabled,
                            mail=c.mail_switch is not None,
                            more=[w for addon in c.addons for w in addon.youth_words(language)])
        step.add(SayToYouth(conversation, "youth_help",
                            (("emergency", emergency[language]), ("words", words))))

    async def _delete_confirmed(self, step: Change, conversation: ConversationID, *,
                                closed: ConversationRecord | None = None) -> bool:
        """"ja löschen" in an open conversation, or in the ``closed`` one of this record;
        True if it is erased now."""
        c = self.conductor
        asked = await c.store.get_setting(deletion.asked_key(conversation))
        record = closed or await c.store.conversation(conversation)
        current = c.router.conversation(conversation)
        if record is not None and (deletion.asked_within(asked, step.at) if closed
                                   else deletion.in_time(current, asked, step.at)):
            # Confirmed: the group book and the forum forget the youth in this same
            # transition, whether the room is purged now or by retention later.
            await youth_traces.forget_in_addons(step, c.addons, record, account=True)
            # Erased means erased: no appointment keeps the conversation (or reminds).
            c.appointments.erased(step, conversation)
        # The office's own numbers, as in the welcome: the goodbye may be the last words
        # the youth reads from us, and another region's crisis line is the wrong one.
        office = current.office if current is not None else \
            record.office if record is not None else ""
        emergency = c.policy.emergency_for(office)
        if closed is not None:
            erased = deletion.confirm_closed(
                step, conversation, closed.language, asked, emergency=emergency,
                can_delete=c.can_delete())
        else:
            erased = deletion.confirm(
                step, conversation, current, asked,
                emergency=emergency, can_delete=c.can_delete(),
                end=lambda: c.handle(step, [ev.YouthEnded(step.at, conversation)],
                                     reply_room=None))
        if erased:
            self._forget_erased(step, conversation)
            if record is not None:
                earlier = await self._earlier_chats(record, step.at)
                for other in earlier:
                    c.appointments.erased(step, other)
                    self._forget_erased(step, other)
                deletion.earlier(step, earlier)
        return erased

    async def reacted(self, room_id: RoomID, youth: UserID, event_id: EventID, key: str,
                      at: datetime) -> bool:
        """A one-emoji reaction of the youth under a message of the bot's: a 👍 or 👎 under
        the appointment proposal answers it (`Appointments.reacted`), in the open chat or
        after the close. False when no proposal waits or the emoji says no yes or no: the
        reaction stays no message."""
        c = self.conductor
        record = await c.store.conversation_by_room(room_id)
        if record is None or record.youth_user_id != youth \
                or not c.appointments.proposal_open(record.conversation):
            return False
        if await c.store.is_processed(event_id):
            return True
        step = Change(at, event_id)
        if not c.appointments.reacted(step, record.conversation, key):
            return False
        if record.state is ConversationState.CLOSED:
            await self._stay_or_leave(step, record.conversation)
        else:
            await c.commit(step)
        return True

    async def _earlier_chats(self, record: ConversationRecord,
                             at: datetime) -> list[ConversationID]:
        """The other closed conversations of ``record``'s youth account (not a mail
        address: a mail youth has no account to delete). Their records are sealed, so each
        is opened: deletions are rare, and the closed ones are bounded by retention."""
        youth = record.youth_user_id
        if not youth.startswith("@"):
            return []
        store = self.conductor.store
        found = []
        for other in await store.closed_before(at + timedelta(seconds=1)):
            if other == record.conversation:
                continue
            kept = await store.conversation(other)
            if kept is not None and kept.closed_at is not None and kept.youth_user_id == youth:
                found.append(other)
        return found

    def _forget_erased(self, step: Change, conversation: ConversationID) -> None:
        c = self.conductor
        c.rooms.pop(conversation, None)
        c.appointments.forget(conversation)
        c.video.forget(conversation)
        c.crisis.forget(step, conversation)
        self.leaving.pop(conversation, None)  # its sealed time goes with the erasure

    async def delete_again(self, conversation: ConversationID, at: datetime) -> bool:
        """A conversation the erasure journal names, still in this (restored) copy: deleted
        again, as its youth asked after the backup was made. False if it is not here."""
        c = self.conductor
        record = await c.store.conversation(conversation)
        if record is None:
            return False
        step = Change(at, None)
        await youth_traces.forget_in_addons(step, c.addons, record, account=True)
        c.appointments.erased(step, conversation)
        open_ = c.router.conversation(conversation) is not None
        deletion.again(step, conversation, end=lambda: c.handle(
            step, [ev.YouthEnded(at, conversation)], reply_room=None) if open_ else None)
        self._forget_erased(step, conversation)
        await c.commit(step)
        return True

    async def check_crisis(self, step: Change, conversation: ConversationID, body: str,
                           *, by_mail: bool = False) -> None:
        """``by_mail``: the words came in a mail (`MailChannel.mail_received`), not from
        the youth in the room."""
        c = self.conductor
        before = c.router.conversation(conversation)
        known = before.severity if before and before.crisis is not CrisisStatus.NONE else 0
        raised, words = await c.crisis.observe_words(conversation, body, step.at, known)
        current = c.router.conversation(conversation)
        if current is None:
            return
        if not by_mail and words.flag:
            await self._owed_numbers(step, conversation, words.explicit)
        if raised is None:
            return
        c.handle(step, [ev.CrisisRaised(step.at, conversation, severity=raised.tier,
                                        outright=raised.outright)],
                 reply_room=None)
        after = c.router.conversation(conversation)
        assert after is not None
        # The office's own numbers, as in the welcome: in another region the installation's
        # crisis line is the wrong one to call.
        c.crisis.raised(step, raised, after, first=current.crisis is CrisisStatus.NONE,
                        emergency=c.policy.emergency_for(after.office),
                        takers=c.policy.router.offices.who_takes(
                            after, c.router.snapshot().counsellors))
        # The safety text names the numbers: the welcome's "nobody on duty" would say them
        # once more, first, and not thank the youth for telling.
        _without_nobody_on_duty(step, conversation)

    async def _owed_numbers(self, step: Change, conversation: ConversationID,
                            explicit: bool) -> None:
        """The youth in the room wrote crisis words, and the numbers of this opening's
        first flag went by mail, to the writer of a mail in the old thread
        (`crisis_flags.owed_key`): they come here now, once. Otherwise only that first
        flag sent them, and the youth in the chat, whose words raised no new level, got
        none."""
        c = self.conductor
        current = c.router.conversation(conversation)
        key = crisis_flags.owed_key(conversation)
        if current is None \
                or await c.store.get_setting(key) != crisis_flags.opening(current):
            return
        step.settings.append((key, ""))
        language = spoken(current.language)
        step.add(SayToYouth(conversation, crisis_flags.safety_text(explicit),
                            (("emergency", c.policy.emergency_for(current.office)[language]),)),
                 f"safety-owed:{conversation}:{crisis_flags.opening(current)}")
        _without_nobody_on_duty(step, conversation)


def _without_nobody_on_duty(step: Change, conversation: ConversationID) -> None:
    """Drop the welcome's "nobody on duty" from ``step``: a text that gives the numbers
    itself (the help, the crisis safety text) comes instead, not after it."""
    step.effects = [(effect, tag) for effect, tag in step.effects
                    if not (isinstance(effect, SayToYouth) and effect.key == "nobody_on_duty"
                            and effect.conversation == conversation)]
