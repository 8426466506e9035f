"""Mail counselling: inbound mail becomes a conversation in the queue, with a room in which
the counsellor reads it; the counsellor's reply in that room goes out as mail.

Mail is not end-to-end encrypted, so at rest the youth's address and the thread's headers
are sealed: as sealed settings (``mailto:<conversation>``, ``mailreply:<conversation>``;
the office's words mailed last, ``mailsaid:<conversation>``, `said_key`),
which the store seals, re-encrypts on vault rotation and erases with the conversation; the
mail text is kept like chat intake (sealed). Nothing of it reaches logs, staff alerts or
metrics.

A reply is performed from the outbox at least once. Its Message-ID is derived from the
outbox key under the thread secret (`thread_index`) and recorded (as the thread key the
youth's answer is found by) right after the mail server accepted it, so a repeat after a
crash is recognised and not sent again. The one window left: a kill after the server
accepted the reply and before that one local write sends it twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

from nio import AsyncClient, RoomCreateResponse

from counsel_bot.channels.mail.codes import ChatCodes, ChatLink
from counsel_bot.channels.mail.errors import MailContentRefused, MailUndeliverable
from counsel_bot.channels.mail.mail_words import (
    as_text,
    as_writer,
    is_list,
    with_words_inside,
    words_read,
)
from counsel_bot.channels.mail.thread_index import (
    Correspondent,
    ThreadIndex,
    seeded,
    upgrade_legacy_keys,
)
from counsel_bot.channels.outbox_worker import CRISIS_MAIL_TEXTS, EffectFailed, is_crisis_mail
from counsel_bot.conversation.conductor import Change, Conductor, new_conversation_id
from counsel_bot.conversation.crisis_flags import opening, owed_key
from counsel_bot.conversation.offices import (
    mail_from,
    mail_office,
    office_of_address,
)
from counsel_bot.core import appointments as ap
from counsel_bot.core.commands import language_asked
from counsel_bot.core.effects import (
    Effect,
    MailToYouth,
    PostText,
    SayToStaff,
    SayToYouth,
    SendMail,
    SetTopic,
    mails_private_key,
)
from counsel_bot.core.errors import BotError, MailAddressRefused
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.language import guess_language
from counsel_bot.core.mail_deadline import DeadlineState, MailConversation, MailDeadlines
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.today import DayCount
from counsel_bot.store import IntakeMessage, NewConversation
from counsel_bot.store.contract import ConversationRecord
from homeserver_bridge.mail import (
    CalendarFile,
    InboundMail,
    InboundServer,
    MailComposeError,
    MailRecipientRefused,
    MailRefused,
    MailSender,
    MailSendError,
    MailSettings,
    ReplyThread,
    Said,
    build_notice,
    build_reply,
    is_address,
    kept_said,
)
from homeserver_bridge.mail.backscatter import SendLimit

log = logging.getLogger(__name__)


MAILTO = "mailto:"
# The catalogue text acknowledging a new mail conversation's first mail.
ACKNOWLEDGEMENT = "mail.received"
# The catalogue text telling a youth that the middle of their long mail was not passed on.
CUT_NOTICE = "mail.cut"


# Acknowledgements go to the From (or Reply-To) of a new mail, which nobody checks
# (`homeserver_bridge.mail.backscatter`): an address hears once a day, all addresses together
# a few times an hour. Every mail is still read; only the word that it arrived is left out.
ACK_PER_ADDRESS = timedelta(hours=24)
ACK_WINDOW = timedelta(hours=1)
ACKS_PER_WINDOW = 30


# How versions before the sealed settings kept the two: vault blobs (base64) in the plain
# settings, which rotation did not reach. Read only by the upgrade (runtime/legacy_settings).
LEGACY_THREAD_CONTEXT = b"counsel/mail-thread/v1"
LEGACY_ADDRESS_CONTEXT = b"counsel/mail-address/v1"


def address_key(conversation: ConversationID) -> str:
    """Sealed setting: a switched chat youth's address (erased with the conversation)."""
    return f"mailto:{conversation}"


def thread_key(conversation: ConversationID) -> str:
    """Sealed setting: the reply thread's headers (erased with the conversation)."""
    return f"mailreply:{conversation}"


def said_key(conversation: ConversationID) -> str:
    """Sealed setting: the office's newest words mailed in the thread (`kept_said`; erased
    with the conversation), to tell them quoted in an answer from the youth's own."""
    return f"mailsaid:{conversation}"


def mail_address(record: ConversationRecord) -> str | None:
    """The youth's address of a mail conversation (kept sealed as its youth id)."""
    youth = str(record.youth_user_id)
    return youth[len(MAILTO):] if youth.startswith(MAILTO) else None


# Settings: when a mail conversation was last answered; its first-reply deadline was
# reminded of / breached.
REPLIED_PREFIX = "mailreplied:"
REMINDED_PREFIX = "mail_reminded:"
BREACHED_PREFIX = "mail_breached:"


class MailChannel:
    def __init__(
        self,
        conductor: Conductor,
        client: AsyncClient,
        settings: MailSettings,
        sender: MailSender | None,
        now: Callable[[], datetime],
        create_room: Callable[[], Awaitable[object]],
        deadlines: MailDeadlines,
    ) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.client = client
        self.settings = settings
        self.sender = sender
        self.now = now
        self._create_room = create_room
        self.deadlines = deadlines
        self._state = DeadlineState()
        self.inbound: InboundServer | None = None
        self.chat_link: ChatLink | None = None
        self.replied: dict[ConversationID, datetime] = {}
        book = conductor.policy.offices
        # Where the office's mails' Message-IDs are drawn (`compose.new_message_id`).
        self.office_domains = frozenset(
            a.rpartition("@")[2].lower()
            for a in (settings.office_address,
                      *(book.desk(o.id).mail_address for o in book.offices)) if a)
        self.threads = ThreadIndex(self.store, self.office_domains)
        self._delivering = asyncio.Lock()
        self._acks = SendLimit(ACK_PER_ADDRESS, ACK_WINDOW, ACKS_PER_WINDOW)
        self._cuts = SendLimit(ACK_PER_ADDRESS, ACK_WINDOW, ACKS_PER_WINDOW)
        # The case code and the address proof's (`codes.py`), on this channel's mail side.
        self.codes = ChatCodes(conductor, self)

    # -- inbound (the MailSink the SMTP server calls) --------------------------------------

    async def deliver(self, mail: InboundMail) -> None:
        """Durable before it returns: the SMTP server answers 250 only after this. One at a
        time: two copies of one new mail at once (To: and Cc: two office addresses, or a
        sender's retry on a second connection) would each find no thread yet and open a
        conversation each. Mail comes seldom enough that waiting costs nothing."""
        if mail.from_office and await self._sent_by_office(mail):
            # Its own mail come back: the counsellor's words, never a youth's, and answering
            # it would loop.
            return
        if mail.delivery_report:
            # The office's own mail quoted back: no youth's words, nothing to answer. But a
            # reply that did not arrive is told in its room.
            await self._returned(mail)
            return
        said = await self._said_in_thread(mail) if mail.auto_generated else None
        if mail.auto_generated and not await self.conductor.crisis.flags_alone(
                self._read(with_words_inside(mail, said), said)):
            # Out-of-office and list mail neither open nor continue a case. Read first: a
            # school's list or a contact form that marks its mail automatic may carry a
            # youth's crisis, which must reach a person (and is never answered by mail).
            return
        if mail.auto_generated:
            mail = as_writer(mail)
        async with self._delivering:
            if await self._continue(mail):
                return
            # Asked of the homeserver outside the conductor's step lock: the sync loop's
            # steps do not wait for it (an unanswered homeserver would hold them all).
            room_id = await self._new_room()
            async with self.conductor.steps.held():
                await self._open(mail, room_id)

    async def _continue(self, mail: InboundMail) -> bool:
        """The mail in the thread it continues, or the answer it gives after a close (True);
        False: it opens a conversation. One conductor step (step_lock.py): the sync loop
        cannot close the conversation between the look-up and the commit, which would leave
        the mail and its crisis check with a closed conversation."""
        async with self.conductor.steps.held():
            conversation = await self._thread_conversation(mail)
            if conversation is None:
                return await self._answered_after_close(mail)
            await self._deliver_to(conversation, mail)
            return True

    async def _open(self, mail: InboundMail, room_id: RoomID) -> None:
        # An answer after the close: what the office said in the closed conversation tells
        # the youth's words inside the quote from the counsellor's, as in an open one.
        said = await self._said_in_thread(mail)
        mail = with_words_inside(mail, said)
        language = language_asked(self._read(mail, said)) or guess_language(
            mail.text, self.conductor.policy.default_language)
        # An automatic mail (read for its crisis words) is answered to its writer: a list
        # sets Reply-To to itself, and a reply there would reach all its members.
        address = self._writer(mail) if mail.auto_generated else mail.reply_address
        conversation = await self.mail_opened(
            room_id, f"{MAILTO}{address}", language, self.now(),
            office=office_of_address(self.conductor.policy.offices, mail.to_address)
            or mail_office(self.conductor.policy.offices, mail.text, language), thread=mail)
        await self.mail_received(
            conversation, await self.threads.event_id(mail), as_text(mail), self.now(),
            written=mail.text, first=True,
            automatic=mail.auto_generated or self.own_address(address),
            read=self._read(mail, said), cut=mail.cut)

    def _read(self, mail: InboundMail, said: Said | None = None) -> str:
        """What the crisis check reads of `mail` (`_words_read`), knowing what the office
        `said` in its thread if given: then a line the youth wrote inside the quote is
        read too."""
        return words_read(mail, self.office_domains, said)

    async def _said_in_thread(self, mail: InboundMail) -> Said | None:
        """What the office said in the conversation of the thread `mail` answers, closed or
        not (`_said_in`); None if none is found or none was kept."""
        for key in await self.threads.lookups(mail):
            found = await self.store.get_setting(key)
            said = None if not found else await self._said_in(ConversationID(found))
            if said is not None:
                return said
        return None

    async def _said_in(self, conversation: ConversationID) -> Said | None:
        """What the office mailed in the conversation's thread (`_said`), if kept."""
        stored = await self.store.get_sealed_setting(said_key(conversation))
        return None if stored is None else Said.of([stored.decode()])

    def _writer(self, mail: InboundMail) -> str:
        """Who wrote an automatic mail: From (its writer's, `_as_writer`), never the list's
        own address (List-Post). If From is still the list (its Reply-To names the list
        too), no one but the list is named: the office's own address stands in, so nothing
        is mailed back (as for a form's words)."""
        if is_list(mail, mail.from_address):
            return mail.to_address or self.settings.office_address
        return mail.from_address

    async def _sent_by_office(self, mail: InboundMail) -> bool:
        """Whether `mail` is one the office sent (each reply's Message-ID is kept under the
        address it went to)."""
        if not mail.addressed_to:
            return False
        sent = await self.threads.setting(mail.addressed_to, mail.message_id)
        return await self.store.get_setting(sent) is not None

    def own_address(self, address: str) -> bool:
        """One of the office's own addresses: mail sent there comes back to the office."""
        own = address.strip().lower()
        return own == self.settings.office_address.lower() \
            or office_of_address(self.conductor.policy.offices, own) is not None

    async def _deliver_to(self, conversation: ConversationID, mail: InboundMail) -> None:
        # The opening mail again: its delivery stopped after the conversation was opened
        # and before the mail was read into it (no 250 yet, so the sender retried).
        first = await self._opened_by(conversation, mail)
        await self._remember_thread(conversation, mail)
        said = await self._said_in(conversation)
        record = await self.store.conversation(conversation)
        replies_to = None if record is None else await self.address_of(record)
        mail = with_words_inside(mail, said)
        await self.mail_received(
            conversation, await self.threads.event_id(mail), as_text(mail), self.now(),
            written=mail.text, first=first, automatic=mail.auto_generated,
            read=self._read(mail, said), cut=mail.cut,
            elsewhere=replies_to is not None and not _written_from(mail, replies_to),
            writer=mail.reply_address)

    async def mail_opened(
        self, room_id: RoomID, address: str, language: Language, at: datetime,
        office: str = "", thread: InboundMail | None = None,
    ) -> ConversationID:
        """A new mail conversation; the ``thread`` it was opened by is found again in the
        same commit, so the sender's retry of a mail whose delivery stopped halfway (no
        250 yet) continues it instead of opening a second one."""
        conductor = self.conductor
        change = Change(at, None)
        conversation = new_conversation_id()
        if thread is not None:
            change.settings.extend((key, conversation)
                                   for key in await self.threads.lookups(thread))
            change.sealed.append((thread_key(conversation),
                                  _thread_value(ReplyThread.from_mail(thread))))
        change.new.append(NewConversation(conversation, room_id, UserID(address), None))
        conductor.rooms[conversation] = room_id
        conductor.handle(change, [ev.ConversationOpened(at, conversation, language=language,
                                                        channel=Channel.MAIL, office=office)],
                         reply_room=None)
        change.add(SayToStaff("staff_new_mail", (("conversation", conversation),)),
                   f"staff-new:{conversation}")
        await conductor.commit(change)
        return conversation

    async def mail_received(
        self, conversation: ConversationID, event_id: EventID, text: str, at: datetime,
        *, written: str | None = None, first: bool = False, automatic: bool = False,
        read: str | None = None, cut: bool = False, elsewhere: bool = False,
        writer: str = "",
    ) -> None:
        """A youth's mail (``written``: its body without the subject line) in the queue and
        the room; a yes or no to an appointment proposed by mail is also its answer. Its
        crisis words are looked for in ``read`` if given (a long mail with its cut middle,
        which the room never shows); a ``cut`` one is answered that its middle is missing
        (`_tell_cut`). The ``first`` mail of a conversation is acknowledged
        (`_acknowledge`). An ``automatic`` mail (read because of its crisis words) gets no
        mail back (RFC 3834): a list would send it to all its members, a robot answer it
        again; the staff are alerted. A mail written ``elsewhere`` than at the address the
        replies go to is pointed out to the counsellor (`_written_from`), and the emergency
        numbers after its crisis words go to its ``writer`` (where an answer to it goes)."""
        if await self.store.is_processed(event_id):
            return  # the same mail again (an SMTP retry)
        change = Change(at, event_id)
        change.intake.append(IntakeMessage(conversation, event_id, text.encode("utf-8")))
        current = self.conductor.router.conversation(conversation)
        in_chat = current is not None and current.channel is Channel.CHAT and not automatic
        # Someone came into the room with the case code (`mails_private_key`).
        private = bool(await self.store.get_setting(mails_private_key(conversation)))
        if in_chat and current is not None and private:
            # Who is in the chat may be the one who reads the youth's mailbox (the code
            # lay there): told that a mail came, a parent learns that their child writes
            # to the counselling. The counsellor alone is told, and reads it privately.
            change.add(SayToStaff("mail.came_in_chat_private_staff",
                                  (("conversation", conversation),),
                                  mentions=(() if current.assigned_to is None
                                            else (current.assigned_to,))),
                       f"mail-in-chat-staff:{event_id}")
        elif in_chat and current is not None:
            # A mail in the thread of a youth who is back in the chat. It may be theirs (a
            # new phone), or someone's who reads the mailbox they left (a parent, an
            # ex-partner): taken back to mail by it, the counsellor's replies went to that
            # person. The case stays in the chat and nothing goes to that address; the
            # youth is told in the chat and chooses mail there ("mail", the address proven
            # again); the counsellor reads the mail in the room and is told in the staff
            # room. Once per mail (an SMTP retry is the same event).
            change.add(SayToYouth(conversation, "mail.came_in_chat"),
                       f"mail-in-chat:{event_id}")
            change.add(SayToStaff("mail.came_in_chat_staff", (("conversation", conversation),),
                                  mentions=(() if current.assigned_to is None
                                            else (current.assigned_to,))),
                       f"mail-in-chat-staff:{event_id}")
        elif elsewhere and current is not None and not automatic:
            # The youth proved another address in the chat, and this mail comes from the
            # one they left: from someone else who reads it, or from the youth, if whoever
            # proved the new one in the chat was not (a case code in other hands). The
            # counsellor's answer would go to the proven address, not to its writer.
            change.add(SayToStaff("mail.other_address_staff",
                                  (("conversation", conversation),),
                                  mentions=(() if current.assigned_to is None
                                            else (current.assigned_to,))),
                       f"mail-other-address:{event_id}")
        if private and not in_chat and not automatic and current is not None \
                and current.assigned_to is not None:
            # Not in the room, where the counsellor answers the case by mail (after `!chat
            # end`, or once the chat chose mail again): without a word here they learnt of
            # it only in a direct room whose invitation they may never have accepted.
            change.add(SayToStaff("mail.came_private_staff", (("conversation", conversation),),
                                  mentions=(current.assigned_to,)),
                       f"mail-private-staff:{event_id}")
        if current is not None and current.assigned_to is not None:
            change.add(PostText(conversation, text,
                                current.assigned_to if private else None))
        if current is not None and current.channel is Channel.MAIL and not automatic:
            # The mail stays a message for the counsellor either way; answered in the same
            # transition, so an SMTP retry of this mail (same Message-ID) answers nothing.
            self.conductor.appointments.mail_answered(
                change, conversation, text if written is None else written)
        named = None if automatic else language_asked(text if read is None else read)
        if named is not None and current is not None and current.language != named:
            # "English please" in a mail, as in the chat: the office's own mails (the crisis
            # mail in this step among them) come in it from now on.
            self.conductor.handle(change, [ev.LanguageTold(at, conversation, named)],
                                  reply_room=None)
        await self.conductor.check_crisis(change, conversation, text if read is None else read,
                                          by_mail=True)
        if in_chat and current is not None:
            # Crisis words by mail: the emergency numbers go to whoever wrote them, by mail,
            # not into the chat (where they were not written). They name nothing the
            # mailbox does not hold already; nothing else is mailed there. The youth in the
            # chat is owed them when their own words flag (`crisis_flags.owed_key`).
            mailed = [(_by_mail(effect, conversation), tag) for effect, tag in change.effects]
            if mailed != change.effects:
                change.settings.append((owed_key(conversation), opening(current)))
            change.effects[:] = mailed
        if elsewhere and writer:
            # Not to the address the replies go to: whoever reads it did not write them.
            change.effects[:] = [
                (replace(effect, to=writer)
                 if is_crisis_mail(effect) and isinstance(effect, MailToYouth)
                 and effect.conversation == conversation else effect, tag)
                for effect, tag in change.effects]
        if automatic:
            change.effects[:] = [(effect, tag) for effect, tag in change.effects
                                 if not isinstance(effect, MailToYouth)]
        else:
            if first:
                await self._acknowledge(change, conversation)
            if cut and not in_chat:
                await self._tell_cut(change, conversation, event_id,
                                     writer if elsewhere else "")
        await self.conductor.commit(change)

    async def _tell_cut(self, change: Change, conversation: ConversationID,
                        event_id: EventID, writer: str = "") -> None:
        """The youth learns that the middle of their long mail did not reach the team and
        how to send it: believing every word read, they would wait for an answer to what
        nobody saw. Never quoting their words. Not beside the emergency numbers, which one
        mail alone must bring (the counsellor reads the cut in the mail and can ask), and
        within the acknowledgements' limit, as its address is as unchecked. To its
        ``writer`` if given: not who the replies go to, who wrote no such mail."""
        if any(is_crisis_mail(effect) for effect, _ in change.effects):
            return
        record = await self.store.conversation(conversation)
        address = writer or (None if record is None else await self.address_of(record))
        if address is None or not self._cuts.allows(address, change.at):
            return
        change.committed.append(lambda: self._cuts.sent(address, change.at))
        change.add(MailToYouth(conversation, CUT_NOTICE, to=writer), f"mail-cut:{event_id}")

    async def _acknowledge(self, change: Change, conversation: ConversationID) -> None:
        """The youth learns their mail arrived, when an answer comes, and where help is
        now: a mail left without a word for two working days reads as unread to someone in
        distress. Not when their words raised a crisis flag: its mail, sent in this same
        step, says all that and thanks them, and two mails at once would bury it. Marked
        automatic, so no vacation reply answers it; a mail that was itself automatic
        opened no conversation to acknowledge. Within the limit (`ACK_PER_ADDRESS`) only."""
        if any(isinstance(effect, MailToYouth) for effect, _ in change.effects):
            return
        current = self.conductor.router.conversation(conversation)
        record = await self.store.conversation(conversation)
        address = None if record is None else mail_address(record)
        if current is None or address is None or not self._acks.allows(address, change.at):
            return
        # Counted once the acknowledgement is durable in the outbox, not if the step failed.
        change.committed.append(lambda: self._acks.sent(address, change.at))
        language = spoken(current.language)
        days = self.deadlines.settings.first_reply_working_days
        within = (text("mail.within_one", language) if days == 1
                  else text("mail.within_days", language, days=days))
        emergency = self.conductor.policy.emergency_for(current.office)[language]
        change.add(MailToYouth(conversation, ACKNOWLEDGEMENT,
                               (("within", within), ("emergency", emergency))),
                   f"mail-ack:{conversation}")

    async def counsellor_wrote(
        self, record: ConversationRecord, sender: UserID, event_id: EventID, body: str,
        at: datetime, *, correction: bool = False,
    ) -> None:
        """The assigned counsellor's words in a mail conversation's room go out as mail; an
        edit of them goes out as a correction (a mail cannot be changed once sent)."""
        current = self.conductor.router.conversation(record.conversation)
        if current is None or current.assigned_to != sender:
            return
        if await self.store.is_processed(event_id):
            return
        change = Change(at, event_id)
        if correction:
            body = text("mail.correction", spoken(current.language),
                        words=body)
        change.add(SendMail(record.conversation, body), f"mail-reply:{event_id}")
        if record.conversation not in self.replied:
            self.replied[record.conversation] = at
            change.settings.append((f"{REPLIED_PREFIX}{record.conversation}", at.isoformat()))
        await self.conductor.commit(change)

    async def load(self) -> None:
        """At start, for the open conversations: when each was last answered by mail, and
        which deadlines were reminded of or breached. One read per kind, not per
        conversation: a restart with thousands of rooms waits on this. Thread keys of older
        versions are replaced first (once: reads per conversation only while any is left)."""
        await upgrade_legacy_keys(self.threads, self.store, self._correspondents, self.now())
        open_ids = {c.conversation for c in self.conductor.router.snapshot().conversations}

        async def marked(prefix: str) -> dict[ConversationID, str]:
            found = {ConversationID(key.removeprefix(prefix)): value
                     for key, value in await self.store.settings(prefix) if value}
            return {cid: value for cid, value in found.items() if cid in open_ids}

        self.replied = {cid: datetime.fromisoformat(value)
                        for cid, value in (await marked(REPLIED_PREFIX)).items()}
        self._state = DeadlineState(frozenset(await marked(REMINDED_PREFIX)),
                                    frozenset(await marked(BREACHED_PREFIX)))

    async def tick(self, at: datetime) -> None:
        """First-reply deadlines: a reminder to staff before, a breach counted after."""
        open_mail = [
            MailConversation(c.conversation, c.enqueued_at, self.replied.get(c.conversation))
            for c in self.conductor.router.snapshot().conversations
            if c.channel is Channel.MAIL
        ]
        reminders, self._state = self.deadlines.due_reminders(open_mail, at, self._state)
        breaches, self._state = self.deadlines.breaches(open_mail, at, self._state)
        if not reminders and not breaches:
            return
        change = Change(at, None)
        for conversation in reminders:
            due = self.deadlines.deadline(next(m.received_at for m in open_mail
                                               if m.id == conversation))
            change.add(SayToStaff("mail.reminder", (("conversation", conversation),
                                                    ("due", f"{due:%d.%m. %H:%M} UTC"))),
                       f"mail-remind:{conversation}")
            change.settings.append((f"{REMINDED_PREFIX}{conversation}", "1"))
        for conversation in breaches:
            # Kept, so a restart neither reminds nor counts the breach again (the outbox's
            # done rows, which also keep a repeat from being sent, last only days).
            change.settings.append((f"{BREACHED_PREFIX}{conversation}", "1"))
            change.after.append(lambda m: m.mail_deadline_breached())
            change.today += DayCount(deadline_breaches=1)
            change.add(SayToStaff("mail.breach", (("conversation", conversation),)),
                       f"mail-breach:{conversation}")
        await self.conductor.commit(change)

    async def _correspondents(self) -> list[Correspondent]:
        """The open conversations with a mail address and thread (mail-born or switched;
        on mail now or back in the chat), for the upgrade of their thread keys."""
        found = []
        for current in self.conductor.router.snapshot().conversations:
            record = await self.store.conversation(current.conversation)
            address = None if record is None else await self.address_of(record)
            stored = await self.store.get_sealed_setting(thread_key(current.conversation))
            if record is None or address is None or stored is None:
                continue
            data = json.loads(stored)
            ids = tuple(i for i in (data["id"], *data["refs"]) if i)
            office = mail_from(self.conductor.policy.offices, record.office,
                               self.settings.office_address)
            found.append(Correspondent(record.conversation, address, ids, office))
        return found

    async def _thread_conversation(self, mail: InboundMail) -> ConversationID | None:
        for key in await self.threads.lookups(mail):
            found = await self.store.get_setting(key)
            if found:
                record = await self.store.conversation(ConversationID(found))
                if record is not None and record.closed_at is None:
                    return record.conversation
        return None

    async def _returned(self, report: InboundMail) -> None:
        """A delivery report on a reply of the office: the relay took it, the youth's
        provider returned it later (a mistyped address, a full mailbox). Told in the room
        as a refusal at sending is, so the counsellor does not wait on a reply never read
        and a chat youth can give another address. Only for the reply's own recipient:
        its Message-ID is drawn under the secret, so nobody else can name it."""
        failure = report.failure
        if failure is None:
            return
        for address in failure.recipients:
            found = await self.store.get_setting(
                await self.threads.setting(address, failure.message_id))
            if found:
                break
        else:
            return
        event_id = await self.threads.event_id(report)
        async with self.conductor.steps.held():
            record = await self.store.conversation(ConversationID(found))
            if record is None or record.closed_at is not None \
                    or await self.store.is_processed(event_id):
                return
            change = Change(self.now(), event_id)
            change.add(SayToYouth(record.conversation, MailUndeliverable.text_key),
                       f"mail-returned:{event_id}")
            await self.conductor.commit(change)

    async def _answered_after_close(self, mail: InboundMail) -> bool:
        """A reply in the thread of a closed conversation that answers the proposal its
        counsellor made before closing: its answer, nothing more (True). Any other mail
        after the close opens a new conversation, as does an answer with crisis words,
        so that someone reads it now (its yes then waits for the counsellor there). Only
        of a conversation on mail at its close: one that closed in the chat had its
        proposal made there, and a mail in its old thread may come from whoever reads
        the mailbox its youth left, whose "nein" declined it."""
        conductor = self.conductor
        event_id = await self.threads.event_id(mail)
        if await self.store.is_processed(event_id):
            return True  # the same mail again (an SMTP retry): answered the first time
        if not ap.bare_mail_answer(mail.text):
            return False  # more to say than yes or no: someone must read it
        for key in await self.threads.lookups(mail):
            found = await self.store.get_setting(key)
            record = None if not found else await self.store.conversation(ConversationID(found))
            if record is None or record.closed_at is None or record.channel is not Channel.MAIL \
                    or not conductor.appointments.proposal_open(record.conversation):
                continue
            # Judged with its subject, as in an open conversation: many write what weighs
            # on them there and only "ja" below; and with what they wrote inside the
            # counsellor's mail (Outlook), which is more than a yes or no.
            said = await self._said_in(record.conversation)
            if ap.mail_answer(mail.text) is None \
                    or with_words_inside(mail, said) is not mail \
                    or await conductor.crisis.flags_alone(self._read(mail, said)):
                return False
            change = Change(self.now(), event_id)
            if conductor.appointments.mail_answered(change, record.conversation, mail.text):
                await conductor.commit(change)  # a retried delivery is handled (same id)
                return True
        return False

    async def _opened_by(self, conversation: ConversationID, mail: InboundMail) -> bool:
        thread = await self._stored_thread(conversation)
        return thread is not None and thread.message_id == mail.message_id

    async def _new_room(self) -> RoomID:
        answer = await self._create_room()
        if not isinstance(answer, RoomCreateResponse):
            raise BotError("the homeserver refused a room for a mail conversation; the mail "
                           "is retried by the sender's server")
        return RoomID(answer.room_id)

    async def _remember_thread(self, conversation: ConversationID, mail: InboundMail) -> None:
        for key in await self.threads.lookups(mail):
            await self.store.set_setting(key, conversation)
        thread = ReplyThread.from_mail(mail)
        await self._save_thread(conversation, thread)

    # -- outbound (performed from the outbox) ------------------------------------------------

    async def switch_to_mail(
        self, change: Change, conversation: ConversationID, address: str
    ) -> None:
        """A chat youth continues by mail: the address is kept sealed, the office starts a
        thread, and the counsellor's words in the room go out as mail from now on. The
        office's own address is refused (`MailAddressRefused`): replies sent there come
        back as the office's own mail and are dropped, and the youth never hears back."""
        if self.own_address(address):
            raise MailAddressRefused("a youth gave the office's own mail address; they are "
                                     "asked for theirs")
        change.sealed.append((address_key(conversation), address.encode()))
        current = self.conductor.router.conversation(conversation)
        language = spoken(None if current is None else current.language)
        subject = "Your online counselling" if language == "en" else "Deine Online-Beratung"
        change.sealed.append((thread_key(conversation),
                              _thread_value(ReplyThread("", (), subject))))
        self._answered_in_chat(change, conversation)
        self.conductor.handle(change, [ev.ChannelChanged(change.at, conversation, Channel.MAIL)],
                              reply_room=None)
        change.add(SayToYouth(conversation, "channel.mail"))
        change.add(SetTopic(conversation, "mail"))

    def _answered_in_chat(self, change: Change, conversation: ConversationID) -> None:
        """A conversation that goes on by mail after its counsellor answered in the chat:
        the first reply is behind it, held to the chat's own targets, so the mail's
        first-reply deadline is not its business. Kept as answered when it was queued, the
        one time no deadline can come before."""
        current = self.conductor.router.conversation(conversation)
        if (current is not None and conversation not in self.replied
                and self.conductor.timers.waiting(conversation).answered_in):
            self.replied[conversation] = current.enqueued_at
            change.settings.append((f"{REPLIED_PREFIX}{conversation}",
                                    current.enqueued_at.isoformat()))

    async def send_code(self, record: ConversationRecord, address: str, subject: str,
                        body: str, key: str) -> None:
        """The code mail: a mail of its own, in no thread, so an answer to it finds no
        conversation (the code is typed in the chat)."""
        if self.sender is None:
            raise BotError("mail.smtp_host is not set: codes cannot be sent; set it in "
                           "counsel.toml")
        seed = await self.threads.reply_seed(key)
        try:
            message = build_notice(
                office_address=mail_from(self.conductor.policy.offices, record.office,
                                         self.settings.office_address),
                to_address=address, subject=subject, text=body, now=self.now(),
                random_bytes=seeded(seed))
        except MailComposeError:
            raise MailUndeliverable("the youth's mail address cannot take mail") from None
        await self.store.still_active()  # see send_reply
        try:
            await self.sender.send(message)
        except (MailRecipientRefused, MailRefused):
            raise MailUndeliverable("the mail server refused the youth's address") from None
        except MailSendError as exc:
            raise EffectFailed(str(exc), permanent=False) from None

    def back_to_first_address(self, change: Change, record: ConversationRecord) -> bool:
        """`!chat end` of a mail-born case (True): it goes on at the address it came from.
        An address proven in the chat meanwhile (`switch_to_mail`) was typed by whoever sat
        in the room, whom the counsellor has just removed as not the youth; kept, it took
        every answer to the youth's mails to them. A conversation born in the chat keeps the
        address its youth proved (False)."""
        if mail_address(record) is None:
            return False
        change.sealed.append((address_key(record.conversation), None))
        return True

    async def address_of(self, record: ConversationRecord) -> str | None:
        """The address the youth proved last in the chat (`switch_to_mail`: sealed beside
        the conversation), else the one a mail-born conversation keeps as its (sealed)
        youth id. That order: a youth who wrote first from a school or a parent's account,
        came into the chat and chose mail again with their own address, is answered there,
        not at the mailbox they left (and someone else may read)."""
        stored = await self.store.get_sealed_setting(address_key(record.conversation))
        if stored is not None:
            return stored.decode()
        return mail_address(record)

    async def send_reply(self, record: ConversationRecord, text: str, key: str, *,
                         calendar: CalendarFile | None = None, automatic: bool = False,
                         to: str = "") -> None:
        """The counsellor's words, or the bot's (``automatic``; appointments: with
        ``calendar``), as mail in the youth's thread; ``to`` another address than the one
        the replies go to (`MailToYouth.to`)."""
        address = to or await self.address_of(record)
        if address is None:
            return
        if self.sender is None:
            raise BotError("mail.smtp_host is not set: replies cannot be sent; set it in "
                           "counsel.toml")
        if not is_address(address):
            raise MailUndeliverable("the youth's mail address cannot take mail")
        if self.own_address(address):
            # An anonymous form's words, sent in the office's name: nobody to answer, and
            # the reply would come back to the office unread.
            raise MailUndeliverable("the conversation has no address but the office's own")
        thread = await self._load_thread(record.conversation)
        seed = await self.threads.reply_seed(key)
        try:
            message = build_reply(
                office_address=mail_from(self.conductor.policy.offices, record.office,
                                         self.settings.office_address),
                to_address=address, thread=thread, text=text, now=self.now(),
                random_bytes=seeded(seed), calendar=calendar,
                automatic=automatic,
            )
        except MailComposeError as exc:
            # Our settings or a calendar file: tried again a few times, then dropped (and
            # counted), never a stop of the bot for every youth.
            raise EffectFailed(str(exc), permanent=True) from None
        reply_id = str(message["Message-ID"])
        # What finds the conversation when the youth answers this reply; written right after
        # the send, it also records that the reply went out: the Message-ID comes from the
        # outbox key, so a repeat after a crash finds it and sends nothing.
        sent = await self.threads.setting(address, reply_id)
        if await self.store.get_setting(sent) is None:
            # Not after a takeover: the record below would be refused (fenced), and the new
            # active bot, finding the reply unsent, would send it again. A former active bot
            # goes on for seconds before it notices its loss.
            await self.store.still_active()
            try:
                await self.sender.send(message)
            except MailRecipientRefused:
                raise MailUndeliverable("the mail server refused the youth's address") from None
            except MailRefused:
                # Not the relay being away: waiting would hold up every later effect of the
                # conversation behind a mail that never goes.
                raise MailContentRefused("the mail server refused the mail itself") from None
            except MailSendError as exc:
                # The relay is away or refuses for now: the mail waits, in order, as effects
                # do while the homeserver is away.
                raise EffectFailed(str(exc), permanent=False) from None
            untagged = await self.threads.untagged_setting(address, reply_id)
            if untagged is not None:
                await self.store.set_setting(untagged, record.conversation)
            await self.store.set_setting(sent, record.conversation)
            # After the record of the send, which keeps a repeat from sending it again.
            await self._said(record.conversation, message)
        if reply_id not in (thread.message_id, *thread.references):
            chain = (*thread.references, thread.message_id)
            await self._save_thread(record.conversation,
                                    ReplyThread(reply_id, chain[-20:], thread.subject))

    async def _said(self, conversation: ConversationID, message: EmailMessage) -> None:
        """Keeps the words of a mail sent in the thread (as sent: with what the mail
        adds around the counsellor's), to know them quoted in the youth's answer."""
        body = message.get_body(preferencelist=("plain",))
        words = body.get_content() if body is not None else ""
        if not isinstance(words, str) or not words.strip():
            return
        stored = await self.store.get_sealed_setting(said_key(conversation))
        before = "" if stored is None else stored.decode()
        await self.store.set_sealed_setting(said_key(conversation),
                                            kept_said(before, words).encode())

    async def _save_thread(self, conversation: ConversationID, thread: ReplyThread) -> None:
        await self.store.set_sealed_setting(thread_key(conversation), _thread_value(thread))

    async def _load_thread(self, conversation: ConversationID) -> ReplyThread:
        thread = await self._stored_thread(conversation)
        if thread is None:
            raise BotError(f"no mail thread for {conversation}")
        return thread

    async def _stored_thread(self, conversation: ConversationID) -> ReplyThread | None:
        stored = await self.store.get_sealed_setting(thread_key(conversation))
        if stored is None:
            return None
        data = json.loads(stored)
        return ReplyThread(data["id"], tuple(data["refs"]), data["subject"])


def _written_from(mail: InboundMail, address: str) -> bool:
    """Whether `mail` comes from `address` (From or Reply-To; a "+tag" and letter case
    aside, as the thread keys see them)."""
    def plain(a: str) -> str:
        local, _, domain = a.strip().lower().rpartition("@")
        return f"{local.partition('+')[0]}@{domain}"
    return plain(address) in {plain(mail.from_address), plain(mail.reply_address)}


def _by_mail(effect: Effect, conversation: ConversationID) -> Effect:
    """`effect`, but the conversation's text with the emergency numbers after crisis words
    (`crisis_flags`) as a mail."""
    if isinstance(effect, SayToYouth) and effect.conversation == conversation \
            and effect.key in CRISIS_MAIL_TEXTS:
        return MailToYouth(effect.conversation, effect.key, effect.params)
    return effect


def _thread_value(thread: ReplyThread) -> bytes:
    return json.dumps({"id": thread.message_id, "refs": list(thread.references),
                       "subject": thread.subject}).encode()
