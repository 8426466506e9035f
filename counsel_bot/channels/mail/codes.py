"""The two codes a case crosses between mail and chat by: the case code (`!chat`), which
brings a mail youth into the conversation's room, and the address proof's code, which
takes a chat youth's conversation to a mail address only once the code mailed there is
typed back (`core.mail_address_proof`); and `!chat end`, which undoes what came in with
the case code.

The case code lies in a mailbox someone else may read, or was forwarded: its use is told
to the youth (by mail) and the counsellor, and from then on the youth's mails reach the
counsellor alone (`mails_private_key`). Codes are kept only as digests (case codes) or
sealed (the address proof), never in an outbox key. The mail side (addresses, threads,
the sender) is the mail channel's (`MailSide`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from counsel_bot.channels.mail.thread_index import ThreadIndex
from counsel_bot.conversation.conductor import Change, Conductor
from counsel_bot.conversation.crisis_flags import opening, owed_key
from counsel_bot.core import mail_address_proof as proof
from counsel_bot.core.effects import (
    EndChat,
    MailCode,
    MailToYouth,
    SayToStaff,
    SayToYouth,
    SendMail,
    SetTopic,
    chat_ended_key,
    mails_private_key,
)
from counsel_bot.core.errors import MailAddressRefused
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.messages import spoken, text
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import Channel, CrisisStatus
from counsel_bot.store.contract import ConversationRecord
from homeserver_bridge.mail import (
    MailSender,
    MailSettings,
)

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # nothing to confuse: no 0/o, 1/l/i
CODE_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class ChatLink:
    """What a mail youth needs to reach the chat: where, whom, and (token mode) a token."""

    homeserver: str
    bot: str
    registration_token: Callable[[datetime], Awaitable[str | None]]


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _live_code_key(conversation: ConversationID) -> str:
    """Setting: the digest of the conversation's one live case code (erased with it)."""
    return f"casecode-live:{conversation}"


class MailSide(Protocol):
    """What the codes need of the mail channel (`MailChannel`)."""

    @property
    def chat_link(self) -> ChatLink | None: ...

    @property
    def sender(self) -> MailSender | None: ...

    @property
    def settings(self) -> MailSettings: ...

    @property
    def threads(self) -> ThreadIndex: ...

    def now(self) -> datetime: ...

    def own_address(self, address: str) -> bool: ...

    async def address_of(self, record: ConversationRecord) -> str | None: ...

    async def switch_to_mail(self, change: Change, conversation: ConversationID,
                             address: str) -> None: ...

    def back_to_first_address(self, change: Change, record: ConversationRecord) -> bool: ...


class ChatCodes:
    def __init__(self, conductor: Conductor, mail: MailSide) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.mail = mail

    async def propose_address(
        self, change: Change, conversation: ConversationID, address: str
    ) -> None:
        """A chat youth gave an address: a code goes there, and only the code typed back in
        the chat switches to mail (`confirm_code`; `core.mail_address_proof`). A new address
        replaces the pending one, and its code the old."""
        if self.mail.own_address(address):
            raise MailAddressRefused("a youth gave the office's own mail address; they are "
                                     "asked for theirs")
        key = proof.pending_key(conversation)
        stored = await self.store.get_sealed_setting(key)
        before = None if stored is None else proof.PendingAddress.decode(stored)
        sent_in_all = await self.store.get_setting(proof.codes_key(conversation))
        if not proof.codes_left(sent_in_all):
            change.add(SayToYouth(conversation, "mail.code_no_more"))
            return
        if not proof.may_send(before, change.at):
            change.add(SayToYouth(conversation, "mail.code_too_many"))
            return
        change.settings.append((proof.codes_key(conversation), proof.one_more(sent_in_all)))
        pending = proof.new_pending(address, change.at, secrets.randbelow, before)
        change.sealed.append((key, pending.encode()))
        # The key is stored in the clear: it names neither the address nor the code.
        change.add(MailCode(conversation, address, pending.code),
                   f"mail-code:{conversation}:{secrets.token_hex(8)}")
        change.add(SayToYouth(conversation, "mail.code_sent", (("address", address),)))

    async def confirm_code(self, change: Change, conversation: ConversationID,
                           body: str) -> bool | None:
        """A chat message while an address waits for its proof: True if it was the code
        and the conversation goes on by mail; False if it was a code, but not the one;
        None if no code waits or the words are no code (a message like any other)."""
        code = proof.typed_code(body)
        key = proof.pending_key(conversation)
        stored = None if code is None else await self.store.get_sealed_setting(key)
        if code is None or stored is None:
            return None
        pending = proof.PendingAddress.decode(stored)
        if not pending.code:
            return None  # given up, kept only to count the code mails: no code waits
        outcome, left = proof.check(pending, code, change.at)
        change.sealed.append((key, None if left is None else left.encode()))
        if outcome is proof.Outcome.PROVEN:
            await self.mail.switch_to_mail(change, conversation, pending.address)
            return True
        told = {proof.Outcome.WRONG: "mail.code_wrong",
                proof.Outcome.GIVEN_UP: "mail.code_given_up",
                proof.Outcome.EXPIRED: "mail.code_expired"}[outcome]
        change.add(SayToYouth(conversation, told))
        return False

    async def invite_to_chat(
        self, change: Change, conversation: ConversationID, by: UserID
    ) -> None:
        """Anonymous way from mail into live chat: a one-time case code (kept only as a
        hash) and, in token mode, a single-use registration token, sent by mail."""
        link = self.mail.chat_link
        if link is None:
            change.add(SayToStaff("chat.unavailable", (("conversation", conversation),),
                                  mentions=(by,)))
            return
        code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
                        for _ in range(3))
        expires = change.at + CODE_LIFETIME
        # One live code per conversation: a new invitation (the first mail lost, the code
        # said not to work) voids the one before, which may lie in a mailbox someone else
        # reads, or have been forwarded, for the rest of its 14 days.
        live = _live_code_key(conversation)
        before = await self.store.get_setting(live)
        if before:
            change.settings.append((f"casecode:{before}", ""))
        change.settings.append((f"casecode:{_digest(code)}",
                                f"{conversation}|{expires.isoformat()}"))
        change.settings.append((live, _digest(code)))
        token = await link.registration_token(expires)
        current = self.conductor.router.conversation(conversation)
        language = spoken(None if current is None else current.language)
        mail_text = text("chat.invitation_mail", language, homeserver=link.homeserver,
                         token=token or "-", bot=link.bot, code=code)
        # The code itself only in the sealed payload: an outbox key is stored in the clear,
        # and whoever read it from the file could redeem the code. A random nonce keeps two
        # invitations of one conversation apart and names nothing.
        change.add(SendMail(conversation, mail_text),
                   f"chat-invite:{conversation}:{secrets.token_hex(8)}")
        change.add(SayToStaff("chat.invited", (("conversation", conversation),), mentions=(by,)))

    async def end_chat(self, change: Change, conversation: ConversationID, by: UserID) -> None:
        """`!chat end`: whoever came into the room with the case code leaves it (`EndChat`;
        told there first), its live code is voided, and the case goes on by mail. The
        youth's mails still reach the counsellor alone (`mails_private_key`): the removal
        is the homeserver's to carry out, and may fail.

        A mail-born case goes on at the address it came from: an address proven in the
        chat meanwhile (`switch_to_mail`), or waiting for its proof, was typed by whoever
        sat in the room, whom the counsellor has just removed as not the youth; kept, it
        took every answer to the youth's mails to them. The code mails they had sent
        (`mail_address_proof.MAX_CODES_IN_ALL`) no longer count against the youth, who may
        come in with the next code and want the answers at an address of their own: each
        new count needs a counsellor's `!chat end`, so the guesses still have an end."""
        record = await self.store.conversation(conversation)
        address = None if record is None else await self.mail.address_of(record)
        if record is None or address is None:
            change.add(SayToStaff("chat.end_not_mail", (("conversation", conversation),),
                                  mentions=(by,)))
            return
        live = _live_code_key(conversation)
        before = await self.store.get_setting(live)
        if before:
            change.settings.append((f"casecode:{before}", ""))
            change.settings.append((live, ""))
        if self.mail.back_to_first_address(change, record):
            change.sealed.append((proof.pending_key(conversation), None))
            change.settings.append((proof.codes_key(conversation), ""))
        change.settings.append((chat_ended_key(conversation), "1"))
        change.add(EndChat(conversation), f"end-chat:{conversation}:{secrets.token_hex(8)}")
        current = self.conductor.router.conversation(conversation)
        if current is not None and current.channel is Channel.CHAT:
            self.conductor.handle(change, [ev.ChannelChanged(change.at, conversation,
                                                             Channel.MAIL)], reply_room=None)
            change.add(SetTopic(conversation, "mail"))
        change.add(SayToStaff("chat.ended_staff", (("conversation", conversation),),
                              mentions=(by,)))

    async def redeem_case_code(self, change: Change, body: str) -> ConversationID | None:
        """The conversation a valid, unspent code opens. The code is burnt in ``change``:
        in the same transaction as the invitation, so a crash spends neither or both."""
        key = f"casecode:{_digest(body.strip().casefold())}"
        stored = await self.store.get_setting(key)
        if not stored:
            return None
        conversation, expires = stored.split("|", 1)
        if datetime.fromisoformat(expires) < self.mail.now():
            return None
        record = await self.store.conversation(ConversationID(conversation))
        if record is None or record.closed_at is not None:
            return None
        change.settings.append((key, ""))  # one use
        change.settings.append((_live_code_key(record.conversation), ""))
        change.settings.append((mails_private_key(record.conversation), "1"))
        change.settings.append((chat_ended_key(record.conversation), ""))
        current = self.conductor.router.conversation(record.conversation)
        if current is not None and current.crisis is not CrisisStatus.NONE:
            # The flag's numbers went by mail: the chat shows them when the words there
            # flag too (`crisis_flags.owed_key`).
            change.settings.append((owed_key(record.conversation), opening(current)))
        # The code came by mail, which someone else may read or have been forwarded: the
        # youth learns in their thread that it was used (if not by them, they answer,
        # and the counsellor reads it), and the counsellor that someone came in with it.
        nonce = secrets.token_hex(8)
        change.add(MailToYouth(record.conversation, "chat.code_used"),
                   f"chat-code-used:{record.conversation}:{nonce}")
        counsellor = None if current is None else current.assigned_to
        change.add(SayToStaff("chat.code_used_staff", (("conversation", record.conversation),),
                              mentions=() if counsellor is None else (counsellor,)),
                   f"chat-code-used-staff:{record.conversation}:{nonce}")
        return record.conversation
