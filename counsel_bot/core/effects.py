"""Side effects the bot performs, stored in the outbox before they happen.

Router actions (invite, hand back, queue notice, close) plus the bot's own: greetings, staff
notices, safety information, transcripts for a counsellor who joined late. Every effect has a
deterministic key, so after a crash the same effect is recognised and not repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from counsel_bot.core.group_effects import (
    GROUP_EFFECTS,
    PREFIX,
    GroupEffect,
    decode_group_effect,
    encode_group_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID, is_conversation_id
from counsel_bot.core.routing import Action, Assign, Closed, QueuePositionChanged, Reply, Unassign
from counsel_bot.core.routing.codec import decode_action, encode_action, outbox_key

Params = tuple[tuple[str, str | int], ...]


@dataclass(frozen=True)
class SayToYouth:
    """A text from the catalogue into the conversation's room (greeting, notices)."""

    conversation: ConversationID
    key: str
    params: Params = ()


@dataclass(frozen=True)
class SayToStaff:
    """A text into the staff room; ``mentions`` are pinged (crisis alerts, lead pages)."""

    key: str
    params: Params = ()
    mentions: tuple[UserID, ...] = ()
    # With several offices: the office whose staff room it goes to ("" = the main one).
    office: str = ""


@dataclass(frozen=True)
class SayPrivately:
    """A text for one staff member alone, in the bot's encrypted direct room with them (a
    youth's video call link: read in the staff room, it let every colleague into the call).
    ``conversation`` is the one it is about: erased with it, its row goes too."""

    to: UserID
    conversation: ConversationID
    key: str
    params: Params = ()


@dataclass(frozen=True)
class SayInRoom:
    """A reply to a staff command, in the room where it was given."""

    room_id: RoomID
    to: UserID
    key: str
    params: Params = ()


@dataclass(frozen=True)
class Transcript:
    """Post what the youth wrote so far for the counsellor who just joined (Megolm gives a
    late joiner no earlier messages), and tell the youth who is there now."""

    conversation: ConversationID
    counsellor: UserID
    assignment: int
    # A team lead reading along: the youth was told already, so no "is here for you".
    supervisor: bool = False
    # With several offices: the staff room the case notes go to ("" = the main one), as
    # for a `SayToStaff` about the conversation.
    office: str = ""
    # For the counsellor alone, in the bot's direct room with them (`mails_private_key`):
    # in the lane of that room, which may wait for its invitation to be accepted.
    privately: bool = False


def mails_private_key(conversation: ConversationID) -> str:
    """Setting: someone came into the conversation's room with its case code (`!chat`).
    The code lay in a mailbox that others may read, or was forwarded: from then on the
    youth's mails, and the transcript of what they wrote, reach the counsellor alone, in
    the bot's direct room with them, never the conversation's room (erased with it)."""
    return f"mails-private:{conversation}"


def chat_ended_key(conversation: ConversationID) -> str:
    """Setting: `!chat end` took the conversation back to mail, and whoever came in with
    the case code is being removed. Their words in the room until then (the same sync
    batch, a removal that waits) do not take it back to the chat, which nobody would be
    in a moment later; a youth whose conversation began in the chat still does, and the
    next code's use clears it (erased with the conversation)."""
    return f"chat-ended:{conversation}"


@dataclass(frozen=True)
class Leave:
    """The bot leaves a closed conversation's room (after the youth's feedback)."""

    conversation: ConversationID


@dataclass(frozen=True)
class PutWidget:
    """Show (content) or remove (empty content) the video call in the room's widgets."""

    conversation: ConversationID
    widget_id: str
    content: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class PostText:
    """A youth's mail, posted into the conversation's room for the counsellor there, or
    (``to``) into the bot's direct room with that counsellor alone: someone came into the
    room with a case code, who may not be the mail's writer (`MailChannel.mails_private`)."""

    conversation: ConversationID
    text: str
    to: UserID | None = None


@dataclass(frozen=True)
class SendMail:
    """The counsellor's words from the room, sent to the youth as mail."""

    conversation: ConversationID
    text: str


@dataclass(frozen=True)
class SetTopic:
    """The room's topic shows the conversation's current channel (chat or mail)."""

    conversation: ConversationID
    channel: str


@dataclass(frozen=True)
class InviteYouth:
    """A youth who redeemed a case code joins their conversation's room; the bot tells
    them in the room they wrote from, then leaves that room."""

    conversation: ConversationID
    youth: UserID
    from_room: RoomID


@dataclass(frozen=True)
class EndChat:
    """Everyone in the conversation's room but the bot and the staff leaves it (`!chat
    end`): who came in with a mail youth's case code, which may have been someone else's
    to read. Told in the room first."""

    conversation: ConversationID


@dataclass(frozen=True)
class Supervise:
    """A team lead reads along read-only (their power level below sending), or (``end``)
    is removed again and their power level reset."""

    conversation: ConversationID
    lead: UserID
    end: bool = False


@dataclass(frozen=True)
class PurgeRoom:
    """Youth-initiated deletion, step 1: the room deleted and purged by the admin API."""

    conversation: ConversationID


@dataclass(frozen=True)
class DeactivateYouth:
    """Step 2: the youth's anonymous account deactivated with erasure (never staff, never a
    mail youth, who has no account). The id is read from the record, so none is stored here."""

    conversation: ConversationID


@dataclass(frozen=True)
class EraseConversation:
    """Step 3, only once the room is gone: the bot's records of the conversation erased."""

    conversation: ConversationID


@dataclass(frozen=True)
class Redact:
    """Remove a staff command (a case note) from the youth's room. Megolm has already
    delivered it to the youth's devices; redaction only removes it from the server and from
    clients that honour it, which is why notes belong in the staff room."""

    conversation: ConversationID
    event_id: EventID


@dataclass(frozen=True)
class SendCalendar:
    """A confirmed appointment's iCalendar file, as an encrypted attachment in the room."""

    conversation: ConversationID
    filename: str
    ics: str


@dataclass(frozen=True)
class MailToYouth:
    """A text from the catalogue sent to a mail youth by mail, in their thread, with a
    calendar file attached when ``ics`` is given (appointments of a mail conversation).
    ``to``: the address it goes to, if not the one the replies go to (the emergency numbers
    after crisis words, to the writer of the mail that held them); sealed, as the payload."""

    conversation: ConversationID
    key: str
    params: Params = ()
    filename: str = ""
    ics: str = ""
    to: str = ""


@dataclass(frozen=True)
class MailCode:
    """The code that proves a chat youth's mail address theirs, sent to that address before
    anything else goes there (`core.mail_address_proof`)."""

    conversation: ConversationID
    address: str
    code: str


# Staff texts that quote youths' words and name no conversation (the waiting forum posts,
# listed): no erasure finds them, so once performed their payload goes on disk too.
QUOTING_YOUTHS = frozenset({"forum.pending"})

# Staff texts that carry a youth's words or notes about them, and the parameter that names
# their conversation: taken back from the staff room at its erasure (a redaction of the
# message: `channels/matrix/said_elsewhere.py`). Each goes as a message of its own, never in
# a digest, whose redaction took every other notice in it (another youth's) along.
ABOUT_ONE_CONVERSATION = {"staff_report": "where", "staff_report_crisis": "where",
                          "notes.handover": "conversation"}


def quotes_youths(effect: object) -> bool:
    """Whether a performed effect's payload must be gone on disk at once (`QUOTING_YOUTHS`)."""
    if isinstance(effect, StaffDigest):
        return any(quotes_youths(notice) for notice in effect.notices)
    return isinstance(effect, SayInRoom | SayToStaff) and effect.key in QUOTING_YOUTHS


@dataclass(frozen=True)
class StaffDigest:
    """Several staff notices as one message (the outbox worker's, never stored): a burst of
    youths is a few messages for the night shift to read, and little work for the server."""

    notices: tuple[SayToStaff, ...]


BotEffect = (EndChat | InviteYouth | SayToYouth | SayToStaff | SayPrivately | SayInRoom | Transcript
             | Leave | PutWidget | PostText | SendMail | SetTopic | Supervise | PurgeRoom
             | DeactivateYouth | EraseConversation | GroupEffect | Redact | SendCalendar
             | MailToYouth | MailCode)
Effect = Assign | Unassign | QueuePositionChanged | Closed | BotEffect


def conversation_named(effect: Effect) -> ConversationID | None:
    """The conversation an effect names, in its fields or its texts' parameters (a staff
    notice about it; the router's replies and others name it as ``id``): its outbox row must
    go when the conversation is erased."""
    named = getattr(effect, "conversation", None)
    if named is not None:
        return ConversationID(str(named))
    if isinstance(effect, SayToStaff | SayInRoom):
        for name, value in effect.params:
            if name == "conversation" or (name == "id" and is_conversation_id(value)):
                return ConversationID(str(value))
    return None


def effect_key(
    effect: Effect, *, version: int, index: int, tag: str = "", cause: str | None = None
) -> str:
    """Deterministic for a given transition; ``tag`` names one-per-conversation effects.

    ``cause`` (the Matrix event that led to it) keeps apart effects of transitions that did
    not move the router: two "help" replies would otherwise share a key, and the second,
    taken for a replay, would never be sent.
    """
    if isinstance(effect, Assign | Unassign | QueuePositionChanged | Closed):
        return outbox_key(effect, version=version, index=index)
    if isinstance(effect, Transcript):
        if effect.supervisor:  # one per join event: a lead may join, leave and come back
            return f"transcript:{effect.conversation}:lead:{cause or version}:{index}"
        return f"transcript:{effect.conversation}:{effect.assignment}"
    if tag:
        return tag
    return f"{type(effect).__name__.lower()}:{cause or version}:{index}"


def encode_effect(effect: Effect) -> bytes:
    if isinstance(effect, Assign | Unassign | QueuePositionChanged | Closed):
        return encode_action(effect)
    data: dict[str, Any]
    match effect:
        case SayToYouth():
            data = {"type": "say_youth", "conversation": effect.conversation, "key": effect.key,
                    "params": [list(p) for p in effect.params]}
        case SayToStaff():
            data = {"type": "say_staff", "key": effect.key,
                    "params": [list(p) for p in effect.params],
                    "mentions": list(effect.mentions)}
            if effect.office:
                data["office"] = effect.office
        case SayPrivately():
            data = {"type": "say_private", "to": effect.to, "conversation": effect.conversation,
                    "key": effect.key, "params": [list(p) for p in effect.params]}
        case SayInRoom():
            data = {"type": "say_room", "room": effect.room_id, "to": effect.to,
                    "key": effect.key, "params": [list(p) for p in effect.params]}
        case Transcript():
            data = {"type": "transcript", "conversation": effect.conversation,
                    "counsellor": effect.counsellor, "assignment": effect.assignment,
                    "supervisor": effect.supervisor, "office": effect.office}
            if effect.privately:
                data["privately"] = True
        case Supervise():
            data = {"type": "supervise", "conversation": effect.conversation,
                    "lead": effect.lead, "end": effect.end}
        case PurgeRoom():
            data = {"type": "purge", "conversation": effect.conversation}
        case DeactivateYouth():
            data = {"type": "deactivate", "conversation": effect.conversation}
        case EraseConversation():
            data = {"type": "erase", "conversation": effect.conversation}
        case Redact():
            data = {"type": "redact", "conversation": effect.conversation,
                    "event_id": effect.event_id}
        case MailToYouth():
            data = {"type": "mail_youth", "conversation": effect.conversation,
                    "key": effect.key, "params": [list(p) for p in effect.params],
                    "filename": effect.filename, "ics": effect.ics}
            if effect.to:
                data["to"] = effect.to
        case MailCode():
            data = {"type": "mail_code", "conversation": effect.conversation,
                    "address": effect.address, "code": effect.code}
        case SendCalendar():
            data = {"type": "calendar", "conversation": effect.conversation,
                    "filename": effect.filename, "ics": effect.ics}
        case Leave():
            data = {"type": "leave", "conversation": effect.conversation}
        case InviteYouth():
            data = {"type": "invite_youth", "conversation": effect.conversation,
                    "youth": effect.youth, "from_room": effect.from_room}
        case SetTopic():
            data = {"type": "topic", "conversation": effect.conversation,
                    "channel": effect.channel}
        case EndChat():
            data = {"type": "end_chat", "conversation": effect.conversation}
        case PostText():
            data = {"type": "post", "conversation": effect.conversation, "text": effect.text}
            if effect.to is not None:
                data["to"] = effect.to
        case SendMail():
            data = {"type": "mail", "conversation": effect.conversation, "text": effect.text}
        case PutWidget():
            data = {"type": "widget", "conversation": effect.conversation,
                    "widget_id": effect.widget_id, "content": dict(effect.content)}
        case _ if isinstance(effect, GROUP_EFFECTS):
            data = encode_group_effect(effect)
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def decode_effect(raw: bytes) -> Effect:
    data = json.loads(raw)
    if str(data.get("type", "")).startswith(PREFIX):
        return decode_group_effect(data)
    params: Params = tuple((str(k), v) for k, v in data.get("params", []))
    match data.get("type"):
        case "say_youth":
            return SayToYouth(ConversationID(data["conversation"]), data["key"], params)
        case "say_staff":
            return SayToStaff(data["key"], params, tuple(UserID(u) for u in data["mentions"]),
                              office=str(data.get("office", "")))
        case "say_private":
            return SayPrivately(UserID(data["to"]), ConversationID(data["conversation"]),
                                data["key"], params)
        case "say_room":
            return SayInRoom(RoomID(data["room"]), UserID(data["to"]), data["key"], params)
        case "invite_youth":
            return InviteYouth(ConversationID(data["conversation"]), UserID(data["youth"]),
                               RoomID(data["from_room"]))
        case "topic":
            return SetTopic(ConversationID(data["conversation"]), data["channel"])
        case "end_chat":
            return EndChat(ConversationID(data["conversation"]))
        case "post":
            return PostText(ConversationID(data["conversation"]), data["text"],
                            UserID(data["to"]) if data.get("to") else None)
        case "mail":
            return SendMail(ConversationID(data["conversation"]), data["text"])
        case "widget":
            return PutWidget(ConversationID(data["conversation"]), data["widget_id"],
                             tuple(data["content"].items()))
        case "leave":
            return Leave(ConversationID(data["conversation"]))
        case "transcript":
            return Transcript(ConversationID(data["conversation"]),
                              UserID(data["counsellor"]), int(data["assignment"]),
                              bool(data.get("supervisor", False)),
                              str(data.get("office", "")), bool(data.get("privately", False)))
        case "supervise":
            return Supervise(ConversationID(data["conversation"]), UserID(data["lead"]),
                             bool(data["end"]))
        case "purge":
            return PurgeRoom(ConversationID(data["conversation"]))
        case "deactivate":
            return DeactivateYouth(ConversationID(data["conversation"]))
        case "erase":
            return EraseConversation(ConversationID(data["conversation"]))
        case "redact":
            return Redact(ConversationID(data["conversation"]), EventID(data["event_id"]))
        case "mail_youth":
            return MailToYouth(ConversationID(data["conversation"]), data["key"], params,
                               str(data.get("filename", "")), str(data.get("ics", "")),
                               str(data.get("to", "")))
        case "mail_code":
            return MailCode(ConversationID(data["conversation"]), str(data["address"]),
                            str(data["code"]))
        case "calendar":
            return SendCalendar(ConversationID(data["conversation"]), data["filename"],
                                data["ics"])
    action = decode_action(raw)
    assert not isinstance(action, Reply), "replies are stored as SayInRoom"
    return action


def reply_in_room(reply: Reply, room_id: RoomID) -> SayInRoom:
    return SayInRoom(room_id, reply.to, reply.message_key.value,
                     tuple((k, v) for k, v in reply.params))


def routed(actions: list[Action], room_id: RoomID) -> list[Effect]:
    """Router actions as effects: replies go to the room the command came from."""
    return [reply_in_room(a, room_id) if isinstance(a, Reply) else a for a in actions]
