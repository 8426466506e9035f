"""Mail counselling: inbound mail becomes a conversation in the queue, with a room in which
the counsellor reads it; the counsellor's reply in that room goes out as mail.

Mail is not end-to-end encrypted, so at rest the youth's address and the thread's headers
are sealed: as sealed settings (``mailto:<conversation>``, ``mailreply:<conversation>``;
the office's words mailed last, ``mailsaid:<conversation>``, `said_key`),
which the store seals, re-encrypts on vault rotation and erases with the conversation; the
mail text is kept like chat intake (sealed). Nothing of it reaches logs, staff alerts or
metrics.

This module reads what comes in and turns it into the conversation's steps. The mails the
office sends are `mail_replies`' job; the acknowledgement and the cut notice
`first_answers`'; the first-reply deadlines `first_reply_watch`'s; a returned reply
`delivery_reports`'; a yes or no after the close `late_answers`'; the settings' keys
`mail_keys`'.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from nio import AsyncClient, RoomCreateResponse

from counsel_bot.channels.mail.codes import ChatCodes, ChatLink
from counsel_bot.channels.mail.delivery_reports import DeliveryReports
from counsel_bot.channels.mail.first_answers import FirstAnswers
from counsel_bot.channels.mail.first_reply_watch import FirstReplyWatch
from counsel_bot.channels.mail.late_answers import LateAnswers
from counsel_bot.channels.mail.mail_keys import (
    MAILTO,
    address_key,
    thread_key,
    thread_of,
    thread_value,
    written_from,
)
from counsel_bot.channels.mail.mail_replies import MailReplies
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
    upgrade_legacy_keys,
)
from counsel_bot.channels.outbox_worker import CRISIS_MAIL_TEXTS, is_crisis_mail
from counsel_bot.conversation.conductor import Change, Conductor, new_conversation_id
from counsel_bot.conversation.crisis_flags import opening, owed_key
from counsel_bot.conversation.offices import (
    mail_from,
    mail_office,
    office_of_address,
)
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
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import Channel
from counsel_bot.store import IntakeMessage, NewConversation
from counsel_bot.store.contract import ConversationRecord
from homeserver_bridge.mail import (
    CalendarFile,
    InboundMail,
    InboundServer,
    MailSender,
    MailSettings,
    ReplyThread,
    Said,
)

log = logging.getLogger(__name__)


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
        self.now = now
        self._create_room = create_room
        self.inbound: InboundServer | None = None
        self.chat_link: ChatLink | None = None
        book = conductor.policy.offices
        # Where the office's mails' Message-IDs are drawn (`compose.new_message_id`).
        self.office_domains = frozenset(
            a.rpartition("@")[2].lower()
            for a in (settings.office_address,
                      *(book.desk(o.id).mail_address for o in book.offices)) if a)
        self.threads = ThreadIndex(self.store, self.office_domains)
        self.replies = MailReplies(self.store, settings, lambda: conductor.policy.offices,
                                   self.threads, sender, now)
        self.first_replies = FirstReplyWatch(conductor, deadlines)
        self.reports = DeliveryReports(conductor, self.threads, now)
        self.late_answers = LateAnswers(conductor, self.threads, self.replies,
                                        self.office_domains, now)
        self._delivering = asyncio.Lock()
        self.answers = FirstAnswers(conductor, self.replies, deadlines)
        # The case code and the address proof's (`codes.py`), on this channel's mail side.
        self.codes = ChatCodes(conductor, self)

    @property
    def deadlines(self) -> MailDeadlines:
        """The first-reply deadlines, which the watch keeps and the acknowledgement names."""
        return self.first_replies.deadlines

    @deadlines.setter
    def deadlines(self, deadlines: MailDeadlines) -> None:
        self.first_replies.deadlines = deadlines
        self.answers.deadlines = deadlines

    @property
    def sender(self) -> MailSender | None:
        """How mail leaves (None: `mail.smtp_host` not set), `MailReplies`'."""
        return self.replies.sender

    @sender.setter
    def sender(self, sender: MailSender | None) -> None:
        self.replies.sender = sender

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
            await self.reports.returned(mail)
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
                return await self.late_answers.answered_after_close(mail)
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
        not (`MailReplies.said_in`); None if none is found or none was kept."""
        for key in await self.threads.lookups(mail):
            found = await self.store.get_setting(key)
            said = None if not found else await self.replies.said_in(ConversationID(found))
            if said is not None:
                return said
        return None

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
        """One of the office's own addresses (`MailReplies.own_address`)."""
        return self.replies.own_address(address)

    async def _deliver_to(self, conversation: ConversationID, mail: InboundMail) -> None:
        # The opening mail again: its delivery stopped after the conversation was opened
        # and before the mail was read into it (no 250 yet, so the sender retried).
        first = await self._opened_by(conversation, mail)
        await self._remember_thread(conversation, mail)
        said = await self.replies.said_in(conversation)
        record = await self.store.conversation(conversation)
        replies_to = None if record is None else await self.address_of(record)
        mail = with_words_inside(mail, said)
        await self.mail_received(
            conversation, await self.threads.event_id(mail), as_text(mail), self.now(),
            written=mail.text, first=first, automatic=mail.auto_generated,
            read=self._read(mail, said), cut=mail.cut,
            elsewhere=replies_to is not None and not written_from(mail, replies_to),
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
                                  thread_value(ReplyThread.from_mail(thread))))
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
        (`FirstAnswers.tell_cut`). The ``first`` mail of a conversation is acknowledged
        (`FirstAnswers.acknowledge`). An ``automatic`` mail (read because of its crisis
        words) gets no mail back (RFC 3834): a list would send it to all its members, a
        robot answer it again; the staff are alerted. A mail written ``elsewhere`` than at
        the address the replies go to is pointed out to the counsellor (`written_from`),
        and the emergency numbers after its crisis words go to its ``writer`` (where an
        answer to it goes)."""
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
                await self.answers.acknowledge(change, conversation)
            if cut and not in_chat:
                await self.answers.tell_cut(change, conversation, event_id,
                                     writer if elsewhere else "")
        await self.conductor.commit(change)

    async def counsellor_wrote(
        self, record: ConversationRecord, sender: UserID, event_id: EventID, body: str,
        at: datetime, *, correction: bool = False,
    ) -> bool:
        """The assigned counsellor's words in a mail conversation's room go out as mail; an
        edit of them goes out as a correction (a mail cannot be changed once sent). True if
        they went out now."""
        current = self.conductor.router.conversation(record.conversation)
        if current is None or current.assigned_to != sender:
            return False
        if await self.store.is_processed(event_id):
            return False
        change = Change(at, event_id)
        if correction:
            body = text("mail.correction", spoken(current.language),
                        words=body)
        change.add(SendMail(record.conversation, body), f"mail-reply:{event_id}")
        self.first_replies.answered(change, record.conversation)
        return await self.conductor.commit(change)

    async def load(self) -> None:
        """At start: thread keys of older versions replaced (once: reads per conversation
        only while any is left), then the first-reply deadlines' marks read."""
        await upgrade_legacy_keys(self.threads, self.store, self._correspondents, self.now())
        await self.first_replies.load()

    async def tick(self, at: datetime) -> None:
        """First-reply deadlines: a reminder to staff before, a breach counted after."""
        await self.first_replies.tick(at)

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
            thread = thread_of(stored)
            ids = tuple(i for i in (thread.message_id, *thread.references) if i)
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

    async def _opened_by(self, conversation: ConversationID, mail: InboundMail) -> bool:
        thread = await self.replies.stored_thread(conversation)
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
        await self.replies.save_thread(conversation, thread)

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
                              thread_value(ReplyThread("", (), subject))))
        self.first_replies.answered_in_chat(change, conversation)
        self.conductor.handle(change, [ev.ChannelChanged(change.at, conversation, Channel.MAIL)],
                              reply_room=None)
        change.add(SayToYouth(conversation, "channel.mail"))
        change.add(SetTopic(conversation, "mail"))

    def back_to_first_address(self, change: Change, record: ConversationRecord) -> bool:
        """`!chat end` of a mail-born case (`MailReplies.back_to_first_address`)."""
        return self.replies.back_to_first_address(change, record)

    async def address_of(self, record: ConversationRecord) -> str | None:
        """The address the youth's replies go to (`MailReplies.address_of`)."""
        return await self.replies.address_of(record)

    async def send_code(self, record: ConversationRecord, address: str, subject: str,
                        body: str, key: str) -> None:
        """The code mail (`MailReplies.send_code`)."""
        await self.replies.send_code(record, address, subject, body, key)

    async def send_reply(self, record: ConversationRecord, text: str, key: str, *,
                         calendar: CalendarFile | None = None, automatic: bool = False,
                         to: str = "") -> None:
        """A mail in the youth's thread (`MailReplies.send_reply`)."""
        await self.replies.send_reply(record, text, key, calendar=calendar,
                                      automatic=automatic, to=to)



def _by_mail(effect: Effect, conversation: ConversationID) -> Effect:
    """`effect`, but the conversation's text with the emergency numbers after crisis words
    (`crisis_flags`) as a mail."""
    if isinstance(effect, SayToYouth) and effect.conversation == conversation \
            and effect.key in CRISIS_MAIL_TEXTS:
        return MailToYouth(effect.conversation, effect.key, effect.params)
    return effect

