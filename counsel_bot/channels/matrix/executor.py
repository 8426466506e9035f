"""Perform the outbox: turn stored effects into Matrix calls, each safe to repeat.

Effects are performed at least once (see `outbox_worker` for what a crash repeats).
Idempotence comes from four places: the outbox key (an effect is marked done as soon as it
succeeded), membership checks before invites and kicks, transaction ids derived from the key
(Synapse answers a repeated send with the event it already made instead of a second one),
and for mail a Message-ID derived from the key, recorded right after sending and checked
before (`MailChannel.send_reply`; a kill between the mail server's accept and that record is
the one window in which a reply goes out twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nio import AsyncClient, ErrorResponse, UploadResponse
from nio.exceptions import GroupEncryptionError, LocalProtocolError

from counsel_bot.channels import erasure_journal
from counsel_bot.channels.mail.errors import MailUndeliverable
from counsel_bot.channels.matrix import said_elsewhere
from counsel_bot.channels.matrix.membership import still_joined
from counsel_bot.channels.matrix.room_moves import purge_if_there
from counsel_bot.channels.matrix.session import LOGIN_GONE
from counsel_bot.channels.matrix.unaccepted import UnacceptedTexts
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.idle_rooms import (
    OWN_ROOM_PREFIXES,
    forget_settings_of_room,
    last_seen,
)
from counsel_bot.conversation.notes import formatted as formatted_notes
from counsel_bot.conversation.notes import read as read_notes
from counsel_bot.core.clock import Clock
from counsel_bot.core.effects import (
    DeactivateYouth,
    Effect,
    EndChat,
    EraseConversation,
    InviteYouth,
    Leave,
    MailCode,
    MailToYouth,
    PostText,
    PurgeRoom,
    PutWidget,
    Redact,
    SayInRoom,
    SayPrivately,
    SayToStaff,
    SayToYouth,
    SendCalendar,
    SendMail,
    SetTopic,
    StaffDigest,
    Supervise,
    Transcript,
    mails_private_key,
)
from counsel_bot.core.group_effects import GROUP_EFFECTS
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import Language, text
from counsel_bot.core.routing import Assign, Closed, QueuePositionChanged, Unassign
from counsel_bot.core.routing.model import ConversationState, UnassignReason
from counsel_bot.core.video import WIDGET_EVENT_TYPE
from counsel_bot.store import Store
from counsel_bot.store.contract import ConversationRecord
from homeserver_bridge.errors import AdminApiError
from homeserver_bridge.mail.compose import CalendarFile

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from counsel_bot.channels.matrix.group_rooms import GroupRooms
    from counsel_bot.channels.matrix.private_rooms import PrivateRooms

# Matrix events are limited to 64 KiB; transcripts and long mails are split well below that.
TRANSCRIPT_CHUNK = 24_000
# How far a transcript in pieces got, under its effect's key (which names the conversation,
# so it is erased with it): the ordinal and piece of the last line sent. A retry goes on
# after it; counting pieces by their index instead, a line the youth deleted meanwhile
# shifted every later line into a piece already sent, and the counsellor never read it.
TRANSCRIPT_SENT_PREFIX = "transcript_sent:"
# What a text to a youth may carry that is theirs alone: a video call's link with its token
# (which lets anyone in and names their nickname). Never into a room without encryption.
PRIVATE_PARAMS = frozenset({"url"})
# Staff texts for one person alone (a video call's link lets whoever reads it into the
# youth's call): never into the staff room, which all staff read.
PRIVATE_STAFF_TEXTS = frozenset({"video.counsellor_link", "video.staff_link"})


class MailReplies(Protocol):
    async def send_reply(self, record: ConversationRecord, text: str, key: str, *,
                         calendar: CalendarFile | None = None,
                         automatic: bool = False, to: str = "") -> None: ...

    async def send_code(self, record: ConversationRecord, address: str, subject: str,
                        body: str, key: str) -> None: ...


class AccountAdmin(Protocol):
    """The part of `homeserver_bridge.admin_api.AdminClient` youth-initiated deletion needs."""

    async def delete_room_and_wait(self, room_id: str) -> object: ...

    async def room_exists(self, room_id: str) -> bool: ...

    async def room_members(self, room_id: str) -> list[str]: ...

    async def get_user(self, user_id: str) -> Any: ...

    async def joined_rooms(self, user_id: str) -> list[str]: ...

    async def deactivate(self, user_id: str, *, erase: bool = True) -> None: ...

    async def delete_media_of(self, user_id: str) -> int: ...


class Executor:
    def __init__(
        self,
        client: AsyncClient,
        store: Store,
        clock: Clock,
        *,
        default_language: Language,
        staff_room: Callable[[], Awaitable[RoomID | None]],
    ) -> None:
        self.client = client
        self.store = store
        self._rooms_known = False  # `rooms_known`
        self.clock = clock
        self.default_language = default_language
        self._staff_room = staff_room
        # With several offices: an office's own staff room (the bot wires it).
        self.office_staff_room: Callable[[str], Awaitable[RoomID | None]] | None = None
        # True while staff the bot invited into a staff room made just now are not yet
        # among the members nio knows of there (the bot wires it: membership.SeenInvitations).
        self.invitations_unseen: Callable[[RoomID], bool] | None = None
        # Asked when a staff room refuses a notice: True if the bot lost that room (for the
        # office named, "" = the main one) and opened a new one (the bot wires it).
        self.staff_room_lost: Callable[[RoomID, str], Awaitable[bool]] | None = None
        # The room a youth was moved out of and has not yet left for this one (the bot
        # wires it): what is said to the youth goes there too.
        self.waiting_in: Callable[[RoomID], Awaitable[RoomID | None]] | None = None
        # The first room a youth who declined the room waits in, no new one to come yet
        # (`YouthMoves.declined_in`): what the bot says to them goes there too.
        self.declined_in: Callable[[RoomID], Awaitable[RoomID | None]] | None = None
        self.mail: MailReplies | None = None
        # The bridge's admin API (runner wires it from the admin token file); without it,
        # youth-initiated deletion is left to retention.
        self.admin: AccountAdmin | None = None
        # Who must never be deactivated, whatever a record says (the bot wires the staff).
        self.protected: frozenset[UserID] = frozenset()
        # The bot's direct room with each staff member (the bot wires it).
        self.private_rooms: PrivateRooms | None = None
        # Texts waiting there for an invitation nobody accepts, and whom to tell: the
        # conversation's office and its team leads (the bot wires the conductor's).
        self.unaccepted = UnacceptedTexts()
        self.leads_for: Callable[[ConversationID], tuple[str, tuple[UserID, ...]]] | None = None
        # The clock a conversation's office keeps, for the notes' times (the bot wires the
        # conductor's).
        self.zone_of: Callable[[ConversationID], tzinfo] = lambda _conversation: UTC
        # Group sessions and the forum (the runner wires them).
        self.groups: GroupRooms | None = None
        # Called with the record just before the store erases a conversation: the parts
        # that name youths outside its rows (group book, forum) forget it (runner wires it).
        self.before_erase: Callable[[ConversationRecord], Awaitable[None]] | None = None
        # Where a youth's deletion is written before its room is purged, so that a restore
        # from an older backup deletes it again (`erasure_journal.py`; runner wires it).
        self.erasure_journal: Path | None = None
        # Forgets a purged room's keys in nio's store (`nio_erasure`, wired by the runner).
        self.forget_room: Callable[[RoomID], None] | None = None

    async def perform(self, effect: Effect | StaffDigest, key: str) -> None:
        if isinstance(effect, GROUP_EFFECTS):
            if self.groups is None:
                raise EffectFailed("group sessions are not enabled", permanent=True)
            await self.groups.perform(effect, key)
            return
        match effect:
            case Assign():
                await self._invite(effect)
            case Unassign():
                record = await self._record(effect.conversation)
                await self._remove(record.room_id, effect.counsellor, effect.reason.value)
                # Handed on (a colleague, another office): no queue to tell of.
                handed = effect.reason is UnassignReason.TRANSFERRED
                await self._to_youth(
                    record, "counsellor_handed_over" if handed else "counsellor_left", (), key)
            case QueuePositionChanged():
                await self._queue_notice(effect, key)
            case Closed():
                await self._close(effect, key)
            case SayToYouth():
                record = await self._record(effect.conversation)
                await self._to_youth(record, effect.key, effect.params, key)
            case SayToStaff():
                await self._to_staff((effect,), key)
            case StaffDigest():
                await self._to_staff(effect.notices, key)
            case SayPrivately():
                await self._privately(effect, key)
            case SayInRoom():
                body = text(effect.key, self.default_language, **dict(effect.params))
                await self.send(effect.room_id, f"{effect.to}: {body}", key,
                                mentions=(effect.to,))
            case Transcript():
                await self._transcript(effect, key)
            case SendCalendar():
                record = await self._record(effect.conversation)
                # Where the text saying "here is the file" goes (`_to_youth`), the file goes.
                rooms = [(record.room_id, key)]
                first = None if self.waiting_in is None else await self.waiting_in(
                    record.room_id)
                if first is not None and self._private(first, record):
                    # Not into one without encryption: the file's key would lie there in
                    # plain text beside the file; nor where someone else reads (the text
                    # there says it waits in the new).
                    rooms.append((first, f"{key}:first"))
                await self._send_file(rooms, effect.filename, "text/calendar",
                                      effect.ics.encode("utf-8"))
            case Redact():
                record = await self._record(effect.conversation)
                # No reason given: a redaction's reason is not encrypted.
                _check(await self.client.room_redact(record.room_id, effect.event_id),
                       "redact")
            case PutWidget():
                await self._widget(effect)
            case InviteYouth():
                record = await self._record(effect.conversation)
                room = self.client.rooms.get(record.room_id)
                if room is None or effect.youth not in room.users:
                    _check(await self.client.room_invite(record.room_id, effect.youth),
                           "invite", tolerate=("already in the room", "is already joined"))
                if effect.from_room in self.client.rooms:
                    # In the conversation's language: the invitation was mailed in it.
                    await self.send(effect.from_room,
                                    text("case_code_ok", _language(record, self.default_language)),
                                    f"{key}:note")
                    await self.client.room_leave(effect.from_room)
            case EndChat():
                await self._end_chat(effect, key)
            case SetTopic():
                record = await self._record(effect.conversation)
                topic = text(f"topic.{effect.channel}", _language(record, self.default_language))
                _check(await self.client.room_put_state(record.room_id, "m.room.topic",
                                                       {"topic": topic}), "topic")
            case PostText():
                record = await self._record(effect.conversation)
                # In parts, as a transcript: a mail may hold 32 KB, and nio's escapes (six
                # bytes for a Cyrillic letter) took a long one past Matrix's 64 KiB, refused
                # for good. The first part keeps the effect's key (its transaction id).
                parts = _chunks(effect.text.split("\n"), TRANSCRIPT_CHUNK)
                if effect.to is not None:
                    # Someone who came in with the case code reads the room: to the
                    # counsellor alone, named by its conversation (never the room). To the
                    # one on the case now: handed over meanwhile, the former has no business
                    # with it; back in the queue, the next one's transcript carries it.
                    if record.assigned_to is None:
                        return
                    header = text("mail.private_post", self.default_language,
                                  conversation=effect.conversation,
                                  link=await self._room_link(effect.conversation))
                    await self._privately_in_parts(record.assigned_to, [header, *parts], key,
                                                   effect.conversation, about=effect.conversation)
                    return
                for index, part in enumerate(parts):
                    await self.send(record.room_id, part, f"{key}:{index}" if index else key)
            case SendMail() | MailToYouth():
                await self._mail(effect, key)
            case MailCode():
                await self._mail_code(effect, key)
            case Leave():
                record = await self._record(effect.conversation)
                # Opened again since (crisis words after the close): the bot stays.
                if record.state is ConversationState.CLOSED \
                        and record.room_id in self.client.rooms:
                    await self._staff_out(record.room_id)
                    await self.client.room_leave(record.room_id)
            case Supervise():
                await self._supervise(effect)
            case PurgeRoom() | DeactivateYouth() | EraseConversation():
                await self._delete_step(effect)

    # -- the effects --------------------------------------------------------------------------

    async def _mail(self, effect: SendMail | MailToYouth, key: str) -> None:
        if self.mail is None:
            raise EffectFailed("mail is not enabled", permanent=True)
        record = await self._record(effect.conversation)
        language = _language(record, self.default_language)
        calendar = None
        if isinstance(effect, SendMail):
            body = effect.text
        else:
            body = text(effect.key, language, **dict(effect.params))
            calendar = (CalendarFile(effect.filename, effect.ics.encode("utf-8"))
                        if effect.ics else None)
        try:
            await self.mail.send_reply(record, body, key, calendar=calendar,
                                       automatic=isinstance(effect, MailToYouth),
                                       to=effect.to if isinstance(effect, MailToYouth) else "")
        except MailUndeliverable as exc:
            # The counsellor in the room sees that their words did not go out, and the
            # youth, if still there, how to give another address.
            await self.send(record.room_id, text(exc.text_key, language),
                            f"{key}:undeliverable")

    async def _mail_code(self, effect: MailCode, key: str) -> None:
        if self.mail is None:
            raise EffectFailed("mail is not enabled", permanent=True)
        record = await self._record(effect.conversation)
        language = _language(record, self.default_language)
        try:
            await self.mail.send_code(record, effect.address,
                                      text("mail.code_subject", language),
                                      text("mail.code_mail", language, code=effect.code), key)
        except MailUndeliverable:
            # The youth is in the chat, waiting for the code: told at once to check it.
            await self.send(record.room_id, text("mail.code_undeliverable", language),
                            f"{key}:undeliverable")

    async def _invite(self, effect: Assign) -> None:
        record = await self._record(effect.conversation)
        room = self.client.rooms.get(record.room_id)
        if room is not None and room.power_levels.users.get(effect.counsellor, 0) < 0:
            await self._set_power(record.room_id, effect.counsellor, read_only=False)
        if room is not None and effect.counsellor in room.users:
            return  # invited or joined already: a replay after a crash
        answer = await self.client.room_invite(record.room_id, effect.counsellor)
        _check(answer, "invite", tolerate=("already in the room", "is already joined"))

    async def _remove(self, room_id: RoomID, user: UserID, reason: str) -> None:
        """Out of the room, an invitation taken back too. Asked of the server, not of nio's
        copy of the room: an invitation sent moments ago (both effects run back to back
        after an outage, a chat closed right after its assignment) is in that copy only
        after the next sync, and one left standing could be accepted later."""
        answer = await self.client.room_kick(room_id, user, reason=reason)
        if isinstance(answer, ErrorResponse) and await still_joined(self.client, room_id) is False:
            return  # the bot is out of the room itself (deleted, or removed): nothing to do
        _check(answer, "kick", tolerate=("not in the room",))

    async def _supervise(self, effect: Supervise) -> None:
        """Read-only is set before the invitation, so there is no moment in which the lead
        could write; Matrix enforces it (a message from them is refused by the server)."""
        record = await self._record(effect.conversation)
        if effect.end:
            await self._remove(record.room_id, effect.lead, "supervision ended")
            await self._set_power(record.room_id, effect.lead, read_only=False)
            return
        await self._set_power(record.room_id, effect.lead, read_only=True)
        room = self.client.rooms.get(record.room_id)
        if room is None or effect.lead not in room.users:
            _check(await self.client.room_invite(record.room_id, effect.lead), "invite",
                   tolerate=("already in the room", "is already joined"))

    async def _set_power(self, room_id: RoomID, user: UserID, *, read_only: bool) -> None:
        """Read-only: below every level that allows sending anything; otherwise the room's
        default again. Read fresh from the server: nio's copy may lag a sync behind."""
        answer = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = getattr(answer, "content", None)
        if not isinstance(content, dict):
            _check(answer, "power levels")
            raise EffectFailed("power levels unreadable", permanent=False)
        users = dict(content.get("users") or {})
        wanted = _read_only_level(content) if read_only else None
        if users.get(user) == wanted or (wanted is None and user not in users):
            return  # already so: a replay
        if wanted is None:
            users.pop(user, None)
        else:
            users[user] = wanted
        answer = await self.client.room_put_state(room_id, "m.room.power_levels",
                                                  {**content, "users": users})
        _check(answer, "power levels")

    async def _delete_step(self, effect: PurgeRoom | DeactivateYouth | EraseConversation) -> None:
        """One step of youth-initiated deletion. Each reads the record, which only the last
        step erases, so each can be repeated after a crash; a record already gone means the
        deletion was completed."""
        record = await self.store.conversation(effect.conversation)
        if record is None:
            return
        if record.closed_at is None:
            # The youth wrote again after "ja löschen" (crisis words open it again): their
            # words, and an alert about them, must reach a person first. The staff are told
            # that this step was dropped; the youth can ask again, retention ends it anyway.
            raise EffectFailed("the conversation was opened again; not deleted",
                               permanent=True)
        if self.admin is None:
            # Permanent: dropped after a few tries; the closed record stays, so retention
            # purges and erases it after the set period.
            raise EffectFailed("no admin access; retention will delete it", permanent=True)
        try:
            if isinstance(effect, PurgeRoom):
                await self._purge(record)
                # Only once purged: a purge that failed may never come (crisis words open
                # the conversation again first), and a restore must not delete what the
                # youth kept. A stop in between tries this step again: purged, journaled.
                await self._journal(record.conversation)
            elif isinstance(effect, DeactivateYouth):
                await self._deactivate(record.youth_user_id)
            elif await self.admin.room_exists(record.room_id):
                # Never erase before the purge: the record is the only way back to the room.
                raise EffectFailed("the room is not purged yet", permanent=True)
            else:
                if self.before_erase is not None:
                    await self.before_erase(record)
                await self.store.erase_conversation(effect.conversation)
        except AdminApiError as exc:
            # Status only: the homeserver's text may quote the room or user id.
            transient = exc.status == 0 or exc.status >= 500 or exc.status == 429
            raise EffectFailed(f"admin API {exc.status} {exc.errcode}",
                               permanent=not transient) from None

    async def _staff_out(self, room_id: RoomID) -> None:
        """Staff still in (or invited into) a closed chat the bot leaves: a colleague the
        youth invited, whom no assignment names. Left there, they would counsel on alone,
        where nothing is recorded and no crisis words reach anyone."""
        room = self.client.rooms.get(room_id)
        joined = await self.client.joined_members(room_id)
        present = {m.user_id for m in getattr(joined, "members", None) or ()}
        present |= set(room.invited_users if room is not None else ())
        for user in sorted(present & self.protected):
            answer = await self.client.room_kick(room_id, user,
                                                 reason="the conversation has ended")
            if isinstance(answer, ErrorResponse):
                log.warning("could not take a staff member out of a closed chat (%s)",
                            answer.status_code)

    async def _journal(self, conversation: ConversationID) -> None:
        """Not written (a full disk, the backups' disk not mounted): the deletion goes on,
        since the youth asked for it now, and the error says what a restore would undo."""
        if self.erasure_journal is None:
            return
        try:
            await asyncio.to_thread(erasure_journal.record, self.erasure_journal,
                                    conversation, self.clock.now())
        except OSError as exc:
            log.error("could not write a deletion into the erasure journal %s (%s): a "
                      "restore from an older backup would bring that conversation back",
                      self.erasure_journal, exc.strerror)

    async def _purge(self, record: ConversationRecord) -> None:
        assert self.admin is not None
        await purge_if_there(self.admin, record.room_id)

    async def _deactivate(self, youth: UserID) -> None:
        """Only an anonymous youth account of this server: never staff, never the bot,
        never an administrator, never a mail address (a mail youth has no account)."""
        assert self.admin is not None
        if not youth.startswith("@") or youth in self.protected or youth == self.client.user_id:
            return
        info = await self.admin.get_user(youth)
        if getattr(info, "admin", True):
            return
        await self._purge_rooms_without_conversation(youth)
        # Deactivated already is no reason to stop: a try that failed after deactivating
        # left the files (the profile picture unencrypted), and deactivating again (Synapse
        # allows it) is how they are deleted now.
        await self.admin.deactivate(youth, erase=True)

    async def _purge_rooms_without_conversation(self, youth: UserID) -> None:
        """The account's rooms where no conversation opened (greeted and never answered,
        a forum post or group sign-up written there: noted by `idle_rooms`), purged before
        the account goes: it leaves every room then, and nothing would tell them apart. They
        hold its nickname and what it wrote there; idle retention came weeks later. A room
        with a conversation is that conversation's (erased with the account's earlier
        chats); a room shared with other youths (told to write one to one) is theirs too
        and waits for idle retention; staff, group and forum rooms are never purged here.
        A repeat after a crash finds the rooms purged so far gone."""
        assert self.admin is not None
        own = {value for key, value in await self.store.settings("")
               if key.startswith(OWN_ROOM_PREFIXES)}
        for room in map(RoomID, await self.admin.joined_rooms(youth)):
            if room in own or await last_seen(self.store, room) is None \
                    or await self.store.get_setting(f"shared_told:{room}") \
                    or await self.store.conversation_by_room(room) is not None \
                    or await self._shared(room, youth):
                continue
            await purge_if_there(self.admin, room)
            if self.forget_room is not None:
                self.forget_room(room)
            await forget_settings_of_room(self.store, room)

    async def _shared(self, room: RoomID, youth: UserID) -> bool:
        """Someone besides ``youth`` and the bot is in ``room``: the notice to write one to
        one (`shared_told:`) comes only once somebody writes, and one who joined before
        that lost their words with another youth's account."""
        assert self.admin is not None
        members = set(await self.admin.room_members(room))
        return bool(members - {youth, self.client.user_id})

    async def _queue_notice(self, effect: QueuePositionChanged, key: str) -> None:
        record = await self._record(effect.conversation)
        language = _language(record, self.default_language)
        if effect.eta is None:
            eta = text("eta_unknown", language)
        else:
            minutes = max(5, 5 * round(effect.eta.total_seconds() / 300))
            eta = text("eta_minutes", language, minutes=minutes)
        await self._to_youth(record, "queue_position",
                             (("position", effect.position), ("eta", eta)), key)

    async def _close(self, effect: Closed, key: str) -> None:
        record = await self._record(effect.conversation)
        if effect.by is not None:  # a youth who ended it already knows
            await self._to_youth(record, "closed_for_youth", (), key)
        if effect.counsellor is not None:
            await self._remove(record.room_id, effect.counsellor, "closed")
        # What the youth wrote was kept only for counsellors who join later: no longer needed,
        # unless crisis words opened it again before this effect ran (a counsellor joins
        # again and must read them). The bot stays for the youth's optional feedback, then
        # leaves (conductor).
        await self.store.delete_closed_intake(effect.conversation)

    async def _to_staff(self, notices: tuple[SayToStaff, ...], key: str) -> None:
        for notice in notices:
            if notice.key in PRIVATE_STAFF_TEXTS:
                # Stored by a version that sent a call's link to the staff room: to each
                # it calls, alone, if that can be done now. Never waited for: it would hold
                # up the staff room's lane, crisis alerts too.
                conversation = ConversationID(str(dict(notice.params).get("conversation")))
                for user in notice.mentions:
                    try:
                        await self._privately(SayPrivately(user, conversation, notice.key,
                                                           notice.params), f"{key}:{user}")
                    except EffectFailed as failure:
                        log.warning("a video link stored for the staff room could not go "
                                    "to its counsellor directly (%s); it is dropped: "
                                    "`!video` starts the call anew", failure)
        notices = tuple(n for n in notices if n.key not in PRIVATE_STAFF_TEXTS)
        if not notices:
            return
        office = notices[0].office
        if office and self.office_staff_room is not None:
            room_id = await self.office_staff_room(office)
        else:
            room_id = await self._staff_room()
        if room_id is None or room_id not in self.client.rooms:
            # Created moments ago: nio learns of it with the next sync.
            raise EffectFailed("the staff room is not synced yet", permanent=False)
        if self.invitations_unseen is not None and self.invitations_unseen(room_id):
            # Its invitations come with a later sync: sent now, the room key would go to
            # nobody, and no counsellor could ever read this alert.
            raise EffectFailed("the staff room's invitations are not synced yet",
                               permanent=False)
        bodies = [await self._staff_body(notice) for notice in notices]
        mentions = tuple(dict.fromkeys(user for notice in notices for user in notice.mentions))
        try:
            event_id = await self.send(room_id, "\n".join(bodies), key, mentions=mentions)
        except EffectFailed as failure:
            # Retrying a lost room cannot help, and dropping the notice could drop a crisis
            # alert: it goes to the room that replaces it (synced moments later), and waits
            # while the homeserver refuses a new one.
            if failure.permanent and self.staff_room_lost is not None \
                    and await self.staff_room_lost(room_id, office):
                raise EffectFailed("the staff room was lost; the notice waits for the new one",
                                   permanent=False) from None
            raise
        for notice in notices:
            named = said_elsewhere.about(notice.key, dict(notice.params))
            if named is not None:
                await said_elsewhere.remember(self.store, named, room_id, event_id)

    async def _end_chat(self, effect: EndChat, key: str) -> None:
        """Everyone in the room but the bot, the staff and a chat youth whose conversation
        it is leaves (joined or still invited), told first."""
        record = await self._record(effect.conversation)
        room = self.client.rooms.get(record.room_id)
        if room is None:
            return
        if self.private_rooms is None:
            # Without the staff list a counsellor would be removed too.
            raise EffectFailed("the staff list is not wired", permanent=True)
        staff = self.private_rooms
        others = sorted({*room.users, *room.invited_users} - {
            self.client.user_id, str(record.youth_user_id)})
        removed = [user for user in others if not staff.is_staff(UserID(user))]
        if not removed:
            return
        await self.send(record.room_id, text("chat.ended_for_youth",
                                             _language(record, self.default_language)),
                        f"{key}:told")
        for user in removed:
            await self._remove(record.room_id, UserID(user), "chat ended")

    async def _privately(self, effect: SayPrivately, key: str) -> None:
        """Into the bot's direct room with one staff member; a room no longer private to
        the two is replaced, and the text waits for the new one (never the staff room)."""
        body = text(effect.key, self.default_language, **dict(effect.params))
        await self._privately_in_parts(effect.to, [body], key, effect.conversation)

    async def _privately_in_parts(self, to: UserID, parts: list[str], key: str,
                                  conversation: ConversationID, *,
                                  about: ConversationID | None = None) -> None:
        """`_privately`'s texts, each a message; the first keeps the effect's key (its
        transaction id), and only it rings the staff member's phone. With ``about``, they
        carry that conversation's words and are taken back at its erasure."""
        if self.private_rooms is None:
            raise EffectFailed("direct rooms are not wired", permanent=True)
        if not self.private_rooms.is_staff(to):
            # Taken off the staff list since (a row from before the restart): the link is
            # for nobody now, least of all for them.
            raise EffectFailed("the recipient is no longer staff", permanent=True)
        self.unaccepted.tried(key, self.clock.now())
        room_id = await self.private_rooms.room_for(to)
        if room_id is None and self.private_rooms.reopen_waits(to):
            # They rejected or left the room opened just now: no new invitation at every
            # retry; the leads learn that the text waits.
            if self.unaccepted.due(key, self.clock.now()):
                await self._tell_unaccepted(to, conversation, key)
            raise EffectFailed("the staff member rejected the direct room; a new one later",
                               permanent=False, waiting=True)
        if room_id is None:
            raise EffectFailed("no direct room with the staff member", permanent=False)
        room = self.client.rooms.get(room_id)
        if room is None:
            # Created moments ago: nio learns of it with the next sync.
            raise EffectFailed("the direct room is not synced yet", permanent=False)
        if not self.private_rooms.joined(room_id, to):
            # Invited, not joined yet: the staff room told them the link waits here.
            if self.unaccepted.due(key, self.clock.now()):
                await self._tell_unaccepted(to, conversation, key)
            raise EffectFailed("the direct room waits for its invitation to be accepted",
                               permanent=False, waiting=True)
        try:
            for index, body in enumerate(parts):
                event_id = await self.send(room_id, body, f"{key}:{index}" if index else key,
                                           mentions=() if index else (to,))
                if about is not None:
                    await said_elsewhere.remember(self.store, about, room_id, event_id)
            self.unaccepted.sent(key)
        except EffectFailed as failure:
            if failure.permanent and await self.private_rooms.lost(to, room_id):
                raise EffectFailed("the direct room was lost; the text waits for a new one",
                                   permanent=False) from None
            raise

    async def _tell_unaccepted(self, to: UserID, conversation: ConversationID,
                               key: str) -> None:
        """A text for ``to`` alone has waited `UNACCEPTED_AFTER` for them to accept the
        direct room: the conversation's team leads are told, and ``to`` once more, in the
        staff room; the conversation and the person, never the text. Told again at the next
        try if the staff room refuses it now."""
        office, leads = ("", ()) if self.leads_for is None else self.leads_for(conversation)
        minutes = int(self.unaccepted.after.total_seconds() // 60)
        notice = SayToStaff("private.unaccepted_staff",
                            (("conversation", conversation), ("counsellor", to),
                             ("minutes", minutes)),
                            mentions=tuple(dict.fromkeys((*leads, to))), office=office)
        try:
            await self._to_staff((notice,), f"{key}:unaccepted")
        except EffectFailed as failure:
            self.unaccepted.not_told(key)
            log.warning("the team leads could not be told of a text waiting in a direct room "
                        "nobody accepted (%s); told at the next try", failure)

    async def _staff_body(self, notice: SayToStaff) -> str:
        params = dict(notice.params)
        if notice.key in ("staff_crisis_alert", "staff_message_set_aside"):
            params["link"] = await self._room_link(ConversationID(str(params["conversation"])))
        body = text(notice.key, self.default_language, **params)
        unnamed = [user for user in notice.mentions if user not in body]
        return f"{', '.join(unnamed)}: {body}" if unnamed else body

    async def _room_link(self, conversation: ConversationID) -> str:
        room_id = await self.store.room_of(conversation)
        return "-" if room_id is None else f"https://matrix.to/#/{room_id}"

    async def _transcript(self, effect: Transcript, key: str) -> None:
        record = await self._record(effect.conversation)
        # Case notes first, in the staff room (never the youth's): same lane, so before.
        notes = await read_notes(self.store, effect.conversation)
        if notes:
            await self._to_staff((SayToStaff(
                "notes.handover", (("conversation", effect.conversation),
                                   ("count", len(notes)), ("notes", formatted_notes(
                                       notes, self.zone_of(effect.conversation)))),
                mentions=(effect.counsellor,), office=effect.office),), f"{key}:notes")
        items = await self.store.read_intake(effect.conversation)
        name = await self._display_name(effect.counsellor)
        if items and (effect.privately or await self.store.get_setting(
                mails_private_key(effect.conversation))):
            # Someone came into the room with the case code, who may not be the youth who
            # wrote the mails among these words: to the counsellor alone.
            lines = [f"› {item.body.decode('utf-8', 'replace')}" for item in items]
            header = text("mail.private_transcript", self.default_language,
                          conversation=effect.conversation, count=len(items),
                          link=await self._room_link(effect.conversation))
            await self._privately_in_parts(
                effect.counsellor, [header, *_chunks(lines, TRANSCRIPT_CHUNK)],
                f"{key}:private", effect.conversation, about=effect.conversation)
        elif items:
            # In the youth's room (the youth reads it too, in their language): the staff room
            # is shared by all staff, and a youth's words are for their counsellor only.
            progress = f"{TRANSCRIPT_SENT_PREFIX}{key}"
            sent = _position(await self.store.get_setting(progress))
            pieces = [((item.ordinal, n), piece) for item in items
                      for n, piece in enumerate(_split(
                          f"› {item.body.decode('utf-8', 'replace')}", TRANSCRIPT_CHUNK))
                      if sent is None or (item.ordinal, n) > sent]
            chunks = _placed_chunks(pieces, TRANSCRIPT_CHUNK)
            for first, last, chunk in chunks:
                body = text("staff_transcript", _language(record, self.default_language),
                            count=len(items), lines=chunk, counsellor=name)
                # Named by the lines it holds: a piece made anew after a deletion is a new
                # message (sent, never dropped as a repeat of the piece before it).
                await self.send(record.room_id, body,
                                f"{key}:{first[0]}.{first[1]}-{last[0]}.{last[1]}")
                if sent is not None or len(chunks) > 1:
                    await self.store.set_setting(progress, f"{last[0]}.{last[1]}")
        if effect.supervisor:
            return  # the youth was told when the supervision began
        await self._to_youth(record, "counsellor_joined", (("counsellor", name),), f"{key}:hi")

    async def _widget(self, effect: PutWidget) -> None:
        record = await self._record(effect.conversation)
        answer = await self.client.room_put_state(
            record.room_id, WIDGET_EVENT_TYPE, dict(effect.content), state_key=effect.widget_id)
        _check(answer, "widget")

    # -- helpers ------------------------------------------------------------------------------

    async def _record(self, conversation: ConversationID) -> ConversationRecord:
        record = await self.store.conversation(conversation)
        if record is None:
            raise EffectFailed("the conversation was erased", permanent=True)
        return record

    async def _to_youth(
        self, record: ConversationRecord, key: str, params: tuple[tuple[str, Any], ...],
        outbox_key: str,
    ) -> None:
        language = _language(record, self.default_language)
        body = text(key, language, **dict(params))
        await self.send(record.room_id, body, outbox_key)
        first = None if self.waiting_in is None else await self.waiting_in(record.room_id)
        go_on = f"\n\n{text('moved_room_go_on', language)}"
        if first is None and self.declined_in is not None:
            # Declined, and no new room to go on in ("accept the invitation" is false).
            first, go_on = await self.declined_in(record.room_id), ""
        if first is not None:
            # Moved, and not come over yet: the youth reads the first room (room_moves.py).
            # One without encryption keeps what is written there in plain text on the
            # homeserver, and one the bot could not moderate may hold someone the youth let
            # in: a link with its token waits in the new room, and the first says so.
            if any(name in PRIVATE_PARAMS for name, _ in params) \
                    and not self._private(first, record):
                body = text("moved_room_waiting", language)
            await self.send(first, f"{body}{go_on}", f"{outbox_key}:first")

    def _private(self, room_id: RoomID, record: ConversationRecord) -> bool:
        """Encrypted, and nobody in it (joined or invited: nio shares the keys with both)
        but the bot and the conversation's youth: a room for what is the youth's alone."""
        room = self.client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return False
        members = set(room.users) | set(room.invited_users)
        return members <= {self.client.user_id, str(record.youth_user_id)}

    async def _display_name(self, user: UserID) -> str:
        answer = await self.client.get_displayname(user)
        name = getattr(answer, "displayname", None)
        return str(name) if name else user[1:].split(":", 1)[0]

    async def _send_file(self, rooms: list[tuple[RoomID, str]], name: str, mimetype: str,
                         data: bytes) -> None:
        """An encrypted attachment (m.file with ``file``: the url and its decryption key),
        uploaded once and sent into each room with its own transaction key."""
        file = await _upload_encrypted(self.client, data, name, mimetype)
        content = {"msgtype": "m.file", "body": name, "filename": name,
                   "info": {"mimetype": mimetype, "size": len(data)}, "file": file}
        for room_id, key in rooms:
            try:
                answer = await self.client.room_send(
                    room_id, "m.room.message", content, tx_id=_txn_id(key),
                    ignore_unverified_devices=True)
            except (GroupEncryptionError, LocalProtocolError, KeyError) as exc:
                raise self._send_failed(room_id, exc) from None
            _check(answer, "send file")

    def rooms_known(self) -> None:
        """The first sync is taken in: nio knows every room the bot is in from now on."""
        self._rooms_known = True

    def _send_failed(self, room_id: RoomID, exc: Exception) -> EffectFailed:
        """What nio's room_send raised. A member who left while the room's key was shared
        made nio drop the session under the share and then mark the dropped one shared (a
        KeyError, in a room it knows), and a send waiting for that share found no session
        (GroupEncryptionError): a race of the moment, which the next try (a new session)
        ends. Counted as a lost room, the effect (a crisis alert, the numbers) was dropped.

        Else nio does not know the room: the bot left it, or it was purged; or the first
        sync has not told nio of any room yet (a start, a takeover), which is no refusal:
        counted as one, what the last bot left (the emergency numbers even) was dropped
        after five wake-ups, well inside a large office's first sync."""
        if isinstance(exc, GroupEncryptionError) \
                or (isinstance(exc, KeyError) and room_id in self.client.rooms):
            return EffectFailed("the room key was lost while shared; tried again",
                                permanent=False)
        if not self._rooms_known:
            return EffectFailed("waiting for the first sync", permanent=False, waiting=True)
        return EffectFailed(f"cannot send: {type(exc).__name__}", permanent=True)

    async def send(
        self, room_id: RoomID, body: str, key: str, *, mentions: tuple[UserID, ...] = ()
    ) -> str:
        """The event's id once sent."""
        if self.client.should_query_keys:
            # A counsellor who just joined must have their devices known, or they would get
            # no room key for this very message (the transcript).
            await self.client.keys_query()
        # A notice rings nobody: the default push rules silence every m.notice before they
        # look for a mention (.m.rule.suppress_notices). One that names somebody (a crisis,
        # a page to the leads) is a message, so it rings their phone.
        content: dict[str, Any] = {"msgtype": "m.text" if mentions else "m.notice",
                                   "body": body}
        if mentions:
            content["m.mentions"] = {"user_ids": list(mentions)}
        try:
            answer = await self.client.room_send(
                room_id, "m.room.message", content, tx_id=_txn_id(key),
                ignore_unverified_devices=True,
            )
        except (GroupEncryptionError, LocalProtocolError, KeyError) as exc:
            raise self._send_failed(room_id, exc) from None
        _check(answer, "send")
        return str(getattr(answer, "event_id", "") or "")


async def _upload_encrypted(
    client: AsyncClient, data: bytes, name: str, mimetype: str
) -> dict[str, Any]:
    """Encrypt ``data`` (AES-CTR, as Matrix attachments are) and upload the ciphertext; the
    key goes only into the Megolm-encrypted message, so the server never sees the file."""
    answer, keys = await client.upload(io.BytesIO(data), content_type="application/octet-stream",
                                       filename=None, encrypt=True, filesize=len(data))
    if not isinstance(answer, UploadResponse) or keys is None:
        raise EffectFailed("upload refused", permanent=False)
    return {**keys, "url": answer.content_uri, "mimetype": mimetype}


def _read_only_level(content: dict[str, Any]) -> int:
    """One below the lowest level that lets a member send, react, invite or set state."""
    levels = [content.get("events_default", 0), content.get("state_default", 50),
              content.get("invite", 0), content.get("redact", 50)]
    events = content.get("events")
    if isinstance(events, dict):
        levels += list(events.values())
    return min(v for v in levels if isinstance(v, int) and not isinstance(v, bool)) - 1


def _check(answer: object, what: str, tolerate: tuple[str, ...] = ()) -> None:
    if not isinstance(answer, ErrorResponse):
        return
    message = str(answer.message or "")
    if any(phrase in message for phrase in tolerate):
        return
    status = str(answer.status_code or "")
    # A login the homeserver no longer accepts refuses everything, and nothing for good:
    # the bot stops and its next start, logged in anew, performs the effect (session.py).
    # No Matrix error code: not the homeserver's answer but a reverse proxy's while it
    # restarts ("502 Bad Gateway" as a page, deploy/'s nginx), which says nothing for good.
    # M_UNKNOWN is Synapse's code for its own errors (a 500), but also for many refusals for
    # good (403 "This room has been blocked on this server"): those, tried again for ever,
    # held back everything after them in the conversation. The HTTP status tells them apart.
    http = getattr(answer.transport_response, "status", None)
    refused = status == "M_UNKNOWN" and isinstance(http, int) and 400 <= http < 500
    transient = not refused and (
        not status or status in ("M_LIMIT_EXCEEDED", "M_UNKNOWN", *LOGIN_GONE)
        or status.startswith("5"))
    raise EffectFailed(f"{what} refused: {status}", permanent=not transient)


def _language(record: ConversationRecord, default: Language) -> Language:
    if record.language == "en":
        return "en"
    return "de" if record.language == "de" else default


def _txn_id(key: str) -> str:
    return "counsel-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _wire_size(text: str) -> int:
    """Bytes in the event as nio sends it (JSON with ASCII escapes: an emoji costs 12)."""
    return len(json.dumps(text)) - 2


def _split(line: str, limit: int) -> list[str]:
    pieces, start, size = [], 0, 0
    for index, char in enumerate(line):
        cost = _wire_size(char)
        if size + cost > limit:
            pieces.append(line[start:index])
            start, size = index, 0
        size += cost
    pieces.append(line[start:])
    return pieces


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into chunks of at most ``limit`` bytes on the wire, in order; a longer
    line is split on its own."""
    return [chunk for _, _, chunk in _placed_chunks(
        [((i, n), piece) for i, line in enumerate(lines)
         for n, piece in enumerate(_split(line, limit))], limit)]


Place = tuple[int, int]  # a line's number and the piece of it


def _placed_chunks(pieces: list[tuple[Place, str]],
                   limit: int) -> list[tuple[Place, Place, str]]:
    """Pieces of lines (each at most ``limit``) joined into chunks of at most ``limit``
    bytes on the wire, in order, each with the place of its first and last piece."""
    chunks: list[tuple[Place, Place, str]] = []
    current: list[tuple[Place, str]] = []
    size = 0

    def flush() -> None:
        chunks.append((current[0][0], current[-1][0], "\n".join(p for _, p in current)))

    for place, piece in pieces:
        cost = _wire_size(piece) + 2
        if current and size + cost > limit:
            flush()
            current, size = [], 0
        current.append((place, piece))
        size += cost
    if current:
        flush()
    return chunks


def _position(value: str | None) -> Place | None:
    """A place as `_transcript` keeps it ("ordinal.piece"); None if none is kept."""
    if not value:
        return None
    ordinal, _, piece = value.partition(".")
    return int(ordinal), int(piece or 0)
