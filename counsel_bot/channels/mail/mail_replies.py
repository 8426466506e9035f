"""The office's mails to a youth, performed from the outbox: the counsellor's (and the
bot's) replies in the youth's thread and the address-proof code mails; which address they go
to; the thread's headers and the office's words mailed last, kept sealed (`mail_keys`).

A reply's Message-ID is derived from the outbox key under the thread secret (`thread_index`)
and recorded (as the thread key the youth's answer is found by) right after the mail server
accepted it, so a repeat after a crash is recognised and not sent again. The one window
left: a kill after the server accepted the reply and before that one local write sends it
twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage

from counsel_bot.channels.mail.errors import MailContentRefused, MailUndeliverable
from counsel_bot.channels.mail.mail_keys import (
    address_key,
    mail_address,
    said_key,
    thread_key,
    thread_of,
    thread_value,
)
from counsel_bot.channels.mail.thread_index import ThreadIndex, seeded
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.offices import mail_from, office_of_address
from counsel_bot.core.errors import BotError
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.offices import OfficeBook
from counsel_bot.store import Store
from counsel_bot.store.contract import ConversationRecord
from homeserver_bridge.mail import (
    CalendarFile,
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


class MailReplies:
    """What the office mails, and where: one per mail channel (`MailChannel.replies`)."""

    def __init__(self, store: Store, settings: MailSettings, offices: Callable[[], OfficeBook],
                 threads: ThreadIndex, sender: MailSender | None,
                 now: Callable[[], datetime]) -> None:
        self.store = store
        self.settings = settings
        self.offices = offices  # the conductor's, read at each use
        self.threads = threads
        self.sender = sender
        self.now = now

    def own_address(self, address: str) -> bool:
        """One of the office's own addresses: mail sent there comes back to the office."""
        own = address.strip().lower()
        return own == self.settings.office_address.lower() \
            or office_of_address(self.offices(), own) is not None

    async def said_in(self, conversation: ConversationID) -> Said | None:
        """What the office mailed in the conversation's thread (`_keep_said`), if kept."""
        stored = await self.store.get_sealed_setting(said_key(conversation))
        return None if stored is None else Said.of([stored.decode()])

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
                office_address=mail_from(self.offices(), record.office,
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
        thread = await self.load_thread(record.conversation)
        seed = await self.threads.reply_seed(key)
        try:
            message = build_reply(
                office_address=mail_from(self.offices(), record.office,
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
            await self._keep_said(record.conversation, message)
        if reply_id not in (thread.message_id, *thread.references):
            chain = (*thread.references, thread.message_id)
            await self.save_thread(record.conversation,
                                    ReplyThread(reply_id, chain[-20:], thread.subject))

    async def _keep_said(self, conversation: ConversationID, message: EmailMessage) -> None:
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

    async def save_thread(self, conversation: ConversationID, thread: ReplyThread) -> None:
        await self.store.set_sealed_setting(thread_key(conversation), thread_value(thread))

    async def load_thread(self, conversation: ConversationID) -> ReplyThread:
        thread = await self.stored_thread(conversation)
        if thread is None:
            raise BotError(f"no mail thread for {conversation}")
        return thread

    async def stored_thread(self, conversation: ConversationID) -> ReplyThread | None:
        stored = await self.store.get_sealed_setting(thread_key(conversation))
        if stored is None:
            return None
        return thread_of(stored)
