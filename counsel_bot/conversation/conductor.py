"""The bot's decisions between Matrix events and the router, made durable before they act.

Every handled Matrix event becomes one transition: the router's new state, the intake it
carries and the side effects it asks for (the outbox) are written in one transaction, and
only then does the executor perform the effects. A crash at any point therefore loses nothing
and repeats nothing: on restart the router is rebuilt from the store and pending effects are
performed again under their keys. No Matrix I/O here; time comes in with each call.

`Conductor` is the one door the channels use; its parts do the work, each in its module:
youth_side (a youth's message), staff_commands (what staff write), staff_devices (unsigned
staff devices), transition (the router step and the commit), and the smaller parts it wires
(welcome, crisis_flags, supervision, video_calls, deletion, youth_traces, workday, ...).
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from zoneinfo import ZoneInfo

from counsel_bot.conversation import (
    crisis_flags,
    left_for_nobody,
    offices,
    opened_for_nobody,
    reports,
    supervision,
    video_calls,
    youth_traces,
)
from counsel_bot.conversation.appointment_calls import AppointmentCalls
from counsel_bot.conversation.appointments import Appointments, AppointmentSettings
from counsel_bot.conversation.change import Change as Change  # re-exported for the mail channel
from counsel_bot.conversation.first_reply import FirstReplies
from counsel_bot.conversation.response_timers import ResponseTimers
from counsel_bot.conversation.response_timers import setting_key as timer_key
from counsel_bot.conversation.staff_commands import StaffCommands
from counsel_bot.conversation.staff_devices import StaffDevices
from counsel_bot.conversation.step_lock import StepLock
from counsel_bot.conversation.transition import Transitions
from counsel_bot.conversation.video_calls import VideoCalls
from counsel_bot.conversation.workday import Workday
from counsel_bot.conversation.youth_side import YouthSide
from counsel_bot.conversation.youth_side import (
    new_conversation_id as new_conversation_id,  # re-exported for the mail channel
)
from counsel_bot.core.commands import HelpEntry
from counsel_bot.core.crisis import Assessor
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.effects import SayToStaff, SayToYouth, Transcript, mails_private_key
from counsel_bot.core.escalation import ENDED
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.messages import Language
from counsel_bot.core.offices import OfficeBook
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing import Router, SnapshotError
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    CrisisStatus,
    Role,
    RouterConfig,
    RouterSnapshot,
)
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.core.timers import TimerSettings
from counsel_bot.core.video import VideoSettings
from counsel_bot.metrics import CounselMetrics
from counsel_bot.office_metrics import OfficeMetrics
from counsel_bot.store import ConversationRecord, Store, StoreError
from counsel_bot.web.router_source import CrisisDetail

# After a restart, conversations that ended this long ago with a flag nobody reviewed, took
# or paged about still page a lead (the wait itself lived in memory).
ENDED_PAGE_WINDOW = timedelta(days=1)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """The parts of the configuration the conductor decides with."""

    default_language: Language
    staff: dict[UserID, Role]
    team_leads: tuple[UserID, ...]
    hours: OpeningHours
    emergency: dict[Language, str]
    escalate_after: timedelta
    router: RouterConfig = field(default_factory=RouterConfig)
    video: VideoSettings = field(default_factory=VideoSettings)
    # The Jitsi app secret (from video.jitsi_app_secret_file), when token auth is on.
    video_secret: str | None = field(default=None, repr=False)
    # "!duty on" from staff with a device they have not cross-signed: refuse, or only warn.
    refuse_unsigned_devices: bool = False
    # Live chat response targets (reminder, then back to the queue).
    timers: TimerSettings = field(default_factory=TimerSettings)
    # Text snippets from the configuration ([[snippets]]), name -> text.
    snippets: dict[str, str] = field(default_factory=dict)
    appointments: AppointmentSettings = field(default_factory=AppointmentSettings)
    # Several counselling offices (empty = one office); the router's rules are in `router`.
    offices: OfficeBook = field(default_factory=OfficeBook)

    def emergency_for(self, office: str) -> dict[Language, str]:
        """The emergency numbers a youth of ``office`` is given (another region's lines,
        maybe), the installation's where the office names none."""
        return offices.emergency_of(self.offices, office, self.emergency)



P = ParamSpec("P")
R = TypeVar("R")


def _one_step(
    method: Callable[Concatenate[Conductor, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Conductor, P], Coroutine[Any, Any, R]]:
    """A door into the conductor another task may use at the same time: its whole step
    (router change to commit) holds the step lock (step_lock.py)."""
    @functools.wraps(method)
    async def one_step(self: Conductor, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with self.steps.held():
            return await method(self, *args, **kwargs)
    return one_step


class Conductor:
    def __init__(
        self, router: Router, store: Store, detector: Assessor, policy: Policy,
        metrics: CounselMetrics | None = None, judge: crisis_flags.Judge | None = None,
    ) -> None:
        self.router = router
        self.store = store
        self.detector = detector
        self.policy = policy
        self.metrics = metrics
        self.crisis = crisis_flags.CrisisFlags(detector, policy.escalate_after, judge)
        # For the team-lead view: which room a conversation is in.
        self.rooms: dict[ConversationID, RoomID] = {}
        self.nicknames: dict[UserID, str] = {}
        self.first_replies = FirstReplies()
        # Who switches a youth to mail (the mail channel).
        self.mail_switch: MailSwitch | None = None
        # The code that proves the youth's address (`ChatCodes.confirm_code`); None: an
        # address given switches at once (a mail channel wired without the proof).
        self.mail_code: MailCodeCheck | None = None
        # Mail youths invited to chat (the mail channel issues and redeems case codes).
        self.chat_invite: ChatInvite | None = None
        self.chat_end: ChatInvite | None = None
        self.redeem_case_code: RedeemCaseCode | None = None
        self.video = VideoCalls(policy.video, policy.video_secret)
        self.supervision = supervision.Supervision(mail_on=lambda: self.mail_switch is not None)
        # Whether the bot can purge rooms and deactivate accounts (admin access); the bot
        # wires this to its executor. Without it, deletion is left to retention.
        self.can_delete: Callable[[], bool] = lambda: False
        # Called after a commit that stored effects (the bot wakes its outbox worker), so
        # mail, timers and chat alike have their effects performed at once.
        self.committed: Callable[[], None] = lambda: None
        # Waits (briefly) until the homeserver has answered the urgent effects committed so
        # far; the bot wires its outbox worker's `answered_within_budget`.
        self.urgent_answered: Callable[[], Awaitable[None]] = _nothing_to_wait_for
        # While set, a commit only notes that the gauges are stale and the one who set it
        # refreshes them later (`refresh_due_metrics`): the bot's sync loop does so once per
        # batch after the batch's effects have started, so the refresh (about 1 ms with 20
        # offices) is not in front of a youth's invitation. /metrics refreshes on each scrape.
        self.defer_metrics = False
        # The last tick's time: a chat that closed since is told its waiting youths.
        self.last_tick: datetime | None = None
        # Parts with their own commands and rooms (group sessions, the forum), asked first.
        self.addons: list[Addon] = []
        self.timers = ResponseTimers(policy.timers, self._timers_of)
        former: dict[str, tuple[str, ...]] = {}
        for old, now in policy.offices.former.items():
            former[now] = (*former.get(now, ()), old)
        self.workday = Workday(store, policy.snippets,
                               {o.id: policy.offices.desk(o.id).snippets
                                for o in policy.offices.offices}, former)
        self.workday.zone_of = self.zone_of
        # Which office a staff room belongs to (the bot wires its office staff rooms).
        self.office_of_room: Callable[[RoomID], str | None] = lambda _room: None
        # The room whose conversation what happens in a room counts in: for a room the youth
        # was moved out of, or a second chat, the open one's (the bot wires its moves).
        self.counted_room: Callable[[RoomID], Awaitable[RoomID]] = _same_room
        self.appointments = Appointments(store, policy.appointments, policy.hours,
                                         video_enabled=policy.video.enabled)
        self.appointments.by_mail = self._by_mail
        self.appointments.is_open = lambda conversation: \
            self.router.conversation(conversation) is not None
        self.appointments.is_staff = lambda user: user in policy.staff
        self.appointments.leads_of = self._appointment_leads
        self.appointments.call_over = lambda step, conversation: \
            self.video.appointment_over(step, conversation)
        if policy.offices.enabled:
            self.appointments.office_of = self._office_of_conversation
            default = self.appointments.default_venue
            self.appointments.venue_of = lambda office: policy.offices.venue(office, default)
        # Per-office metrics beside `metrics`, only with several offices (the runner sets it).
        self.office_metrics: OfficeMetrics | None = None
        # Held by each step from its first router change to its commit (step_lock.py): the
        # sync loop, mail deliveries and the outbox worker's callbacks run side by side.
        self.steps = StepLock()
        # The parts that do the work; each reaches the state above through this conductor.
        self.transitions = Transitions(self)
        self.appointment_calls = AppointmentCalls(self)
        self.devices = StaffDevices(self)
        self.youth = YouthSide(self)
        self.staff = StaffCommands(self)

    @property
    def crisis_details(self) -> dict[ConversationID, CrisisDetail]:
        """For the team-lead view: what each conversation's flag was about."""
        return self.crisis.details

    @classmethod
    async def open(
        cls, store: Store, detector: Assessor, policy: Policy, now: datetime,
        metrics: CounselMetrics | None = None, judge: crisis_flags.Judge | None = None,
        office_metrics: OfficeMetrics | None = None,
    ) -> Conductor:
        snapshot = await store.load_router_snapshot()
        try:
            router = Router.from_snapshot(snapshot, policy.router)
        except SnapshotError as exc:
            # Our error, which the command line prints: a bug report leaves out the advice.
            raise StoreError(f"the store's routing state contradicts itself: {exc}") from exc
        conductor = cls(router, store, detector, policy, metrics, judge)
        conductor.office_metrics = office_metrics
        # Before anything below commits and counts: the day goes on from what was counted.
        await conductor.transitions.restore_today()
        await conductor.restore_waits(snapshot, now)
        for conversation in snapshot.conversations:
            await conductor._remember(conversation.conversation)
        await conductor.devices.load()
        await conductor.appointments.load()
        await conductor.restore_appointment_calls(snapshot)
        # What a crash left half done: a youth's crisis check committed after their
        # invitation (youth_side.py). Counted like any flag, so the metrics come first.
        await conductor.youth.finish_crisis_checks(now)
        await conductor.youth.load_waiting()
        return conductor

    async def restore_waits(self, snapshot: RouterSnapshot, now: datetime) -> None:
        """The crisis flags' waits for a human as the store keeps them: at a start, and
        after a failed commit (a page of the failed step was never written: still due)."""
        store = self.store
        saved = {ConversationID(key.removeprefix(crisis_flags.WAIT_PREFIX)): value
                 for key, value in await store.settings(crisis_flags.WAIT_PREFIX)}
        # Ended lately with a flag nobody reviewed or took, and no lead paged about it yet;
        # and ended with a wait saved, one its counsellor never reviewed included (the
        # store's query knows only those nobody had), which pages as it would have.
        closed = set(await store.unreviewed_closed_since(now - ENDED_PAGE_WINDOW))
        waiting = {cid for cid, value in saved.items() if value not in ("", ENDED)}
        for cid in waiting - {c.conversation for c in snapshot.conversations} - closed:
            record = await store.conversation(cid)
            if record is not None and record.closed_at is not None \
                    and record.crisis is CrisisStatus.RAISED:
                closed.add(cid)
        ended = [cid for cid in sorted(closed)
                 if await store.get_setting(crisis_flags.paged_key(cid)) is None]
        self.crisis.restore_waiting(snapshot, now, ended, saved)
        for cid in ended:
            record = await store.conversation(cid)
            if record is not None:
                self.crisis.closed(cid, record.office)

    async def restore_appointment_calls(self, snapshot: RouterSnapshot, *,
                                        replace: bool = False) -> None:
        """The calls of closed conversations with appointments (an open one's come with
        it): an appointment's call in a closed room still has to leave it when it is over."""
        open_now = {c.conversation for c in snapshot.conversations}
        for conversation in sorted({a.conversation for a in self.appointments.known.values()}
                                   - open_now):
            self.video.restore(conversation, await self.store.get_setting(
                video_calls.setting_key(conversation)), replace=replace)
        await self.appointment_calls.restore()

    async def _remember(self, conversation: ConversationID) -> None:
        record = await self.store.conversation(conversation)
        if record is not None:
            self.rooms[conversation] = record.room_id
        self.video.restore(
            conversation, await self.store.get_setting(video_calls.setting_key(conversation)))
        self.supervision.restore(
            conversation, await self.store.get_setting(supervision.setting_key(conversation)))
        self.crisis.restore(
            conversation, await self.store.get_setting(crisis_flags.setting_key(conversation)),
            await self.store.get_setting(crisis_flags.source_key(conversation)))
        self.timers.restore(conversation, await self.store.get_setting(timer_key(conversation)))

    # -- roster and staff devices -------------------------------------------------------------

    @_one_step
    async def sync_roster(self, at: datetime) -> None:
        """The configuration is the roster: add or update staff, remove who is gone."""
        events: list[ev.Event] = [
            ev.StaffAdded(at, user, role) for user, role in sorted(self.policy.staff.items())
            if (known := self.router.counsellor(user)) is None or known.role is not role
        ]
        events += [
            ev.StaffRemoved(at, c.user) for c in self.router.snapshot().counsellors
            if c.user not in self.policy.staff
        ]
        step = Change(at, None)
        if events:
            self.handle(step, events, reply_room=None)
            for event in events:
                if isinstance(event, ev.StaffRemoved):
                    self.appointments.counsellor_gone(step, event.user)
        # A reader the configuration no longer makes a lead of the conversation (off the
        # staff, no team lead now, another office's) goes, the youth told.
        for conversation in sorted(c for c, leads in self.supervision.leads.items() if leads):
            self.transitions.readers_led(step, conversation, configured=True)
        if events or step.effects or step.settings:
            await self.commit(step)

    @_one_step
    async def devices_checked(self, check: DeviceTrustCheck, at: datetime) -> None:
        """A staff member's devices were checked (staff_devices.py)."""
        await self.devices.checked(check, at)

    # -- youths (youth_side.py) -----------------------------------------------------------------

    @_one_step
    async def youth_wrote(
        self, room_id: RoomID, youth: UserID, nickname: str | None, event_id: EventID,
        body: str, at: datetime, *, attachment: bool = False, edits: EventID | None = None,
        told: str | None = "attachment_note",
    ) -> None:
        await self.youth.wrote(room_id, youth, nickname, event_id, body, at,
                               attachment=attachment, edits=edits, told=told)

    @_one_step
    async def youth_reacted(self, room_id: RoomID, youth: UserID, event_id: EventID, key: str,
                            at: datetime) -> bool:
        """A one-emoji reaction under the bot's message: True if it answered a proposed
        appointment (`YouthSide.reacted`)."""
        return await self.youth.reacted(room_id, youth, event_id, key, at)

    @_one_step
    async def youth_retracted(
        self, room_id: RoomID, youth: UserID, event_id: EventID, original: EventID,
        words: str | None, at: datetime,
    ) -> bool:
        """A youth deleted (``words`` None) or edited an earlier message in their room: a
        part whose message it was (a waiting forum post) takes it back; otherwise the old
        words are left out of later transcripts (`YouthSide.taken_back`), and an edit goes
        on as a message like any other (False)."""
        for addon in self.addons:
            if await addon.youth_retracted(room_id, youth, event_id, original, words, at):
                return True
        await self.youth.taken_back(room_id, youth, original)
        return False

    @_one_step
    async def report_received(self, report_id: int, room_id: RoomID, event_id: EventID,
                              reason: str, at: datetime, *, received_ts: int = 0) -> None:
        """A message reported with a user's app (`reports.py`)."""
        await reports.received(self, report_id, room_id, event_id, reason, at,
                               received_ts=received_ts)

    @_one_step
    async def youth_sent_unreadable(self, room_id: RoomID, event_id: EventID,
                                    at: datetime) -> None:
        await self.youth.sent_unreadable(room_id, event_id, at)

    @_one_step
    async def youth_asked_verification(self, room_id: RoomID, event_id: EventID,
                                       at: datetime) -> None:
        await self.youth.asked_verification(room_id, event_id, at)

    @_one_step
    async def youth_reached_out(
        self, room_id: RoomID, youth: UserID, nickname: str | None, at: datetime
    ) -> None:
        await self.youth.reached_out(room_id, youth, nickname, at)

    @_one_step
    async def check_crisis(self, step: Change, conversation: ConversationID, body: str,
                           *, by_mail: bool = False) -> None:
        await self.youth.check_crisis(step, conversation, body, by_mail=by_mail)

    # -- staff (staff_commands.py) --------------------------------------------------------------

    @_one_step
    async def staff_wrote(
        self, room_id: RoomID, sender: UserID, event_id: EventID, body: str, at: datetime
    ) -> None:
        await self.staff.wrote(room_id, sender, event_id, body, at)

    @_one_step
    async def staff_edited_command(self, room_id: RoomID, sender: UserID, event_id: EventID,
                                   command: str, at: datetime,
                                   original: EventID | None = None) -> None:
        """A staff member edited a message into a command: not carried out; they are told
        to send it anew."""
        await self.staff.edited_command(room_id, sender, event_id, command, at, original)

    @_one_step
    async def staff_answered(self, room_id: RoomID, sender: UserID, event_id: EventID,
                             at: datetime) -> None:
        """A staff member's message without text in a room (a voice message, a picture, a
        /me): in a youth's room an answer like their text, never a command."""
        await self.staff.answered(room_id, sender, event_id, at)

    def overdue_replies(self, now: datetime, among: RouterSnapshot | None = None) -> int:
        """Chats whose youth waits past the target; `among`: of these conversations only
        (the dashboard passes an office lead's), else of all."""
        return self.timers.overdue(self.router.snapshot() if among is None else among, now)

    def counsellor_name(self, counsellor: UserID | None) -> str:
        """The nickname staff and youths see for a counsellor ("" for none or unknown)."""
        return self.nicknames.get(counsellor, "") if counsellor else ""

    @_one_step
    async def set_aside(self, room_id: RoomID, sender: UserID, event_id: EventID, at: datetime,
                        forget: tuple[str, str]) -> None:
        """An event the bot failed on twice (channels/failures.py) is not
        handled again: a youth's message may have been a crisis nobody has read, so the
        staff are alerted at once, and the youth is asked to write it again."""
        step = Change(at, event_id)
        step.settings.append(forget)
        record = await self.store.conversation_by_room(room_id)
        # Closed too: words after the close may be the crisis that opens it again.
        if record is not None and record.youth_user_id == sender:
            step.add(SayToYouth(record.conversation, "message_set_aside"))
            step.add(SayToStaff("staff_message_set_aside",
                                (("conversation", record.conversation),)))
        else:
            step.add(SayToStaff("staff_event_set_aside"))
        step.after.append(lambda metrics: metrics.event_set_aside())
        await self.commit(step)

    @_one_step
    async def reply_not_mailed(self, conversation: ConversationID, sender: UserID,
                               event_id: EventID, at: datetime) -> None:
        """The assigned counsellor sent a file, picture or voice message to a youth
        counselled by mail: no mail carries it, so they are told, to say it in words (the
        youth would wait for an answer the counsellor believes sent)."""
        current = self.router.conversation(conversation)
        if current is None or current.assigned_to != sender \
                or await self.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        step.add(SayToStaff("staff_reply_not_mailed", (("conversation", conversation),),
                            mentions=(sender,)))
        await self.commit(step)

    @_one_step
    async def mail_not_recalled(self, conversation: ConversationID, sender: UserID,
                                event_id: EventID, at: datetime) -> None:
        """A staff member deleted, in the room, an answer that had gone out as mail to the
        youth: no mail can be taken back, so they are told (to write a correction)."""
        if await self.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        step.add(SayToStaff("staff_mail_not_recalled", (("conversation", conversation),),
                            mentions=(sender,)))
        await self.commit(step)

    @_one_step
    async def effect_set_aside(self, what: str, conversation: ConversationID | None,
                               at: datetime, *, refused: bool = False) -> None:
        """Something the bot was to do made it fail twice and was dropped (the outbox
        worker, failures.py), or, ``refused``, the homeserver refused it for good and the
        outbox gave it up: the staff look at what may be missing."""
        step = Change(at, None)
        # A key of its own: without an event or a router step, the default key (the router's
        # version) is the same for every set-aside until the router moves, and the outbox
        # keeps only the first of equal keys. No replay can repeat this step (no event).
        step.add(SayToStaff("staff_effect_refused" if refused else "staff_effect_set_aside", (
            ("what", what), ("conversation", conversation or "–"))),
            f"effect_set_aside:{secrets.token_hex(8)}")
        await self.commit(step)

    # -- membership and time ----------------------------------------------------------------

    @_one_step
    async def member_joined(
        self, room_id: RoomID, user: UserID, event_id: EventID, at: datetime
    ) -> None:
        found = await self._open_conversation_in(room_id, event_id)
        if found is None:
            return
        record, current = found
        if current.assigned_to == user:
            transcript = Transcript(record.conversation, user, current.assignments)
        elif self.supervision.is_reading(record.conversation, user):
            # A supervisor reads the earlier messages the same way a late counsellor does.
            transcript = Transcript(record.conversation, user, current.assignments,
                                    supervisor=True)
        else:
            return
        step = Change(at, event_id)
        if await self.store.get_setting(mails_private_key(record.conversation)):
            # For them alone (someone came in with the case code): in the lane of their
            # direct room with the bot, which may wait for them to accept it. Said in the
            # staff room, which they read: nothing in the room may say it, and a direct
            # room never opened held it for ever unseen.
            transcript = replace(transcript, privately=True)
            if await self.store.read_intake(record.conversation):
                step.add(SayToStaff("mail.private_transcript_staff",
                                    (("conversation", record.conversation),),
                                    mentions=(user,)),
                         f"private-transcript-staff:{record.conversation}:{event_id}")
        step.add(transcript)
        await self.commit(step)

    @_one_step
    async def member_left(
        self, room_id: RoomID, user: UserID, event_id: EventID, at: datetime
    ) -> None:
        found = await self._open_conversation_in(room_id, event_id)
        if found is None:
            await self._youth_left_closed(room_id, user, event_id, at)
            return
        record, current = found
        step = Change(at, event_id)
        if user == record.youth_user_id:
            self.handle(step, [ev.YouthEnded(at, record.conversation)], reply_room=None)
            self.appointments.youth_left(step, record.conversation)
        elif user == current.assigned_to:
            self.handle(step, [ev.CounsellorLeftRoom(at, record.conversation, user)],
                         reply_room=None)
            left_for_nobody.call_leads(self, step, user, "staff_left_room_for_nobody",
                                       f"left-room:{event_id}", still_here=True)
        elif self.supervision.is_reading(record.conversation, user):
            self.supervision.left(step, current, user)
        else:
            # Kept handled though nothing changed (a counsellor the bot removed at a
            # hand-back): a batch read again after they have the youth once more must
            # not take this old leave for their leaving that.
            await self.store.mark_processed(event_id, at=at)
            return
        await self.commit(step)

    async def _youth_left_closed(self, room_id: RoomID, user: UserID, event_id: EventID,
                                 at: datetime) -> None:
        """The youth left the room of a closed conversation the bot stays in for its
        appointments: nothing said there reaches them any more (`Appointments.youth_left`)."""
        record = await self.store.conversation_by_room(room_id)
        if record is None or record.youth_user_id != user \
                or self.router.conversation(record.conversation) is not None \
                or await self.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        self.appointments.youth_left(step, record.conversation)
        if step.effects or step.sealed:
            await self.commit(step)

    async def _open_conversation_in(
        self, room_id: RoomID, event_id: EventID
    ) -> tuple[ConversationRecord, ConversationSnapshot] | None:
        """The conversation a membership event is about, unless the event was handled or
        the room holds none the router still knows."""
        record = await self.store.conversation_by_room(room_id)
        if record is None or await self.store.is_processed(event_id):
            return None
        current = self.router.conversation(record.conversation)
        return None if current is None else (record, current)

    @_one_step
    async def tick(self, at: datetime) -> None:
        """Queue notices and ETA updates, and pages for crisis flags nobody handled."""
        step = Change(at, None)
        self.handle(step, [ev.Tick(at)], reply_room=None)
        self.transitions.closed_since(step, self.last_tick)
        opened_for_nobody.tell(self, step, self.last_tick)
        if self.policy.offices.enabled:
            # A youth who never answers the office question is not left waiting unseen.
            chosen = offices.unanswered(
                step, self.router, self.policy.offices, default_hours=self.policy.hours,
                default_emergency=self.policy.emergency, mail=self.mail_switch is not None)
            self.handle(step, chosen, reply_room=None)
            for event in chosen:
                if isinstance(event, ev.OfficeChosen):
                    self.youth.office_known(step, event.conversation, event.office)
        self.crisis.page_leads(step, self.router.snapshot(), self.router.version,
                               self.leads_to_call)
        self.crisis.forget_old_lines(at)
        self.video.appointments_over(step)
        self.appointment_calls.waited_for(step, at)
        self._in_calls(step, at)
        self.timers.due(step, self.router.snapshot(), lambda current: self._requeue(step, current),
                        self.leads_to_call)
        await self.youth.leave_due(step, at)
        reminders_failed = not await self._reminders_due(step)
        if step.effects or step.settings or step.sealed:
            await self.commit(step)
        if reminders_failed:
            # Their memory changed with the part of the step that was dropped.
            await self.transitions.reload(at)
        self.last_tick = at
        for addon in self.addons:
            await addon.tick(at)

    async def _reminders_due(self, step: Change) -> bool:
        """The appointments' reminders, added to the tick's step; False if a bug in one
        failed them all. Then only they are left out: the same step carries the crisis
        pages and hand-backs, and the failure would come back at every tick and every
        start. The staff are told once a day; the log names only the error's type."""
        kept = (len(step.effects), len(step.settings), len(step.sealed), len(step.after),
                len(step.committed), step.today)
        try:
            await self.appointments.due(step, lambda appointment, tell_youth:
                                        self.appointment_calls.due(step, appointment, tell_youth))
        except Exception as exc:  # whatever it is, the pages go on
            log.error("appointment reminders failed (%s); the tick's other work goes on",
                      type(exc).__name__)
            effects, settings, sealed, after, committed, step.today = kept
            del step.effects[effects:], step.settings[settings:], step.sealed[sealed:]
            del step.after[after:], step.committed[committed:]
            step.add(SayToStaff("staff_reminders_failed"), f"reminders_failed:{step.at:%Y-%m-%d}")
            return False
        return True

    def _in_calls(self, step: Change, at: datetime) -> None:
        """In a video call the counsellor answers by voice: the youth's words in the chat
        wait for no answer there, or the timers would hand the conversation back mid-call
        (the counsellor taken out of the room, the youth told they left)."""
        for current in self.router.snapshot().conversations:
            if current.assigned_to is not None \
                    and self.video.in_call(current.conversation, at, current.assigned_to):
                changed = self.timers.counsellor_wrote(current, current.assigned_to)
                if changed is not None:
                    step.settings.append(changed)

    def _requeue(self, step: Change, current: ConversationSnapshot) -> bool:
        """Nobody answered in time: hand back as its counsellor would (the router then puts
        it at the front and gives it to someone else; the youth is told by the hand-back).
        True if someone else has it now, or, in a queue staff take from by hand
        (`auto_assign = false`), someone else on duty may take it: nobody takes one the
        moment it comes back, and calling the leads each time taught them to ignore it."""
        if current.assigned_to is None:
            return False
        self.handle(step, [ev.Transfer(step.at, current.assigned_to, current.conversation,
                                       None)], reply_room=None)
        step.after.append(lambda metrics: metrics.requeued_unanswered())
        now = self.router.conversation(current.conversation)
        if now is None:
            return False
        if now.assigned_to is not None:
            return True
        return not self.policy.router.auto_assign and self.policy.router.offices.anyone_takes(
            now, self.router.snapshot().counsellors)

    def leads_to_call(self, conversation: ConversationID) -> tuple[str, tuple[UserID, ...]]:
        """Whom a crisis nobody handled, or a youth nobody else can take, calls, and the
        office whose staff room it goes to: the office's leads (or the on-call office's),
        also for a conversation that closed while its flag waited; all leads without
        offices, for a conversation whose office is not known, or when none is named
        ("" = the conversation's office's room)."""
        if not self.policy.offices.enabled:
            return "", self.every_lead()
        office, leads = offices.leads_for(conversation, self.router, self.policy.router.offices,
                                          self.policy.offices,
                                          self.crisis.ended_in.get(conversation))
        # Leads without a device left ring no phone: then the on-call office's, in its room
        # (an office's room holds its own staff alone: another's lead named in it is not
        # told), as for an office without a lead; then every lead's room and list.
        leads = self.devices.reachable(leads)
        book = self.policy.offices
        if not leads and office and office != book.on_call:
            office = book.on_call
            leads = self.devices.reachable(
                tuple(UserID(u) for u in book.desk(office).team_leads))
        return (office, leads) if leads else ("", self.every_lead())

    # -- the transition (transition.py) and erasure ---------------------------------------

    def handle(self, step: Change, events: Sequence[ev.Event], reply_room: RoomID | None) -> None:
        self.transitions.handle(step, events, reply_room)

    @_one_step
    async def commit(self, step: Change) -> bool:
        """False if the step's event was handled before: nothing was written."""
        return await self.transitions.commit(step)

    def refresh_due_metrics(self) -> None:
        """Refresh the gauges if a commit left them stale (see `defer_metrics`)."""
        self.transitions.refresh_due_metrics()

    def refresh_metrics(self, now: datetime) -> None:
        self.transitions.refresh_metrics(now)

    @_one_step
    async def delete_again(self, conversation: ConversationID, at: datetime) -> bool:
        """After a restore: a conversation its youth deleted after the backup was made is
        deleted again (`YouthSide.delete_again`, the erasure journal)."""
        return await self.youth.delete_again(conversation, at)

    @_one_step
    async def forget_traces(self, record: ConversationRecord, at: datetime, *,
                            account: bool = False) -> None:
        """Before the store erases a conversation (retention, the deletion's last step):
        the parts that name youths outside the conversation's own rows (group book, waiting
        forum posts) forget its room, and with ``account`` (the youth's deletion) its youth,
        durably. Repeatable: the record outlives this call, so a crash before the erasure
        runs it again, and then it finds nothing."""
        # Its room goes with it: a call there is nothing to take away any more.
        self.video.forget(record.conversation)
        step = Change(at, None)
        await youth_traces.forget_in_addons(step, self.addons, record, account=account)
        if not (step.sealed or step.settings or step.effects):
            return
        try:
            await self.commit(step)
        except BaseException:
            for addon in self.addons:
                await addon.load()  # the store is the truth
            raise

    # -- wiring for the parts ----------------------------------------------------------------

    def every_lead(self) -> tuple[UserID, ...]:
        """The team leads of the whole installation: ``[staff]``'s and every office's (a
        page no office can take, and a group's crisis, call them all). An installation
        that names no lead (a small office) has its counsellors called instead: a page
        must ring somebody's phone: so do the counsellors on duty when no lead has a device
        left (an account closed, logged out everywhere), and when nobody is on duty all
        staff who have one."""
        offices_leads = (UserID(u) for desk in self.policy.offices.desks.values()
                         for u in desk.team_leads)
        named = tuple(dict.fromkeys((*self.policy.team_leads, *offices_leads)))
        if not named:
            return self.devices.reachable(tuple(self.policy.staff)) or tuple(self.policy.staff)
        reachable = self.devices.reachable
        on_duty = tuple(c.user for c in self.router.snapshot().counsellors if c.on_duty)
        return (reachable(named) or reachable(on_duty) or reachable(tuple(self.policy.staff))
                or named)

    def _timers_of(self, current: ConversationSnapshot) -> TimerSettings:
        """The response targets of the conversation's office (``[timers]`` without offices,
        or for what the office leaves unset: the config merged them)."""
        if not self.policy.offices.enabled:
            return self.policy.timers
        office = self.policy.router.offices.office_of(current)
        return self.policy.offices.desk(office).timers or self.policy.timers

    def _appointment_leads(self, office: str) -> tuple[UserID, ...]:
        """Whom an appointment whose counsellor left the staff calls: the leads of the
        office it was booked with, else every lead (or, naming none, the counsellors)."""
        if self.policy.offices.enabled and office:
            book = self.policy.offices
            leads = tuple(UserID(u) for u in
                          book.desk(book.former.get(office, office)).team_leads)
            if leads:
                return leads
        return self.every_lead()

    def zone_of(self, conversation: ConversationID) -> ZoneInfo:
        """The timezone of the conversation's office (its opening hours'): the clock its
        staff keep, in which the times they read are given."""
        return offices.hours_of(self.policy.offices, self._office_of_conversation(conversation),
                                self.policy.hours).timezone

    def _office_of_conversation(self, conversation: ConversationID) -> str:
        """The office a conversation is with now; one still deciding is the fallback's
        (as for its staff commands)."""
        rules = self.policy.router.offices
        current = self.router.conversation(conversation)
        office = rules.fallback if current is None else rules.office_of(current)
        return rules.fallback if office == UNDECIDED else office

    def _by_mail(self, conversation: ConversationID) -> bool:
        """The youth is reached by mail now (appointments' texts go by mail then)."""
        current = self.router.conversation(conversation)
        return current is not None and current.channel is Channel.MAIL


async def _nothing_to_wait_for() -> None:
    return None


async def _same_room(room: RoomID) -> RoomID:
    return room


class Addon(Protocol):
    """A part with its own commands, rooms and timers (group sessions, the forum): the
    conductor asks it first, and it commits through `Conductor.commit`."""

    async def youth_wrote(self, room_id: RoomID, youth: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool: ...

    async def staff_wrote(self, room_id: RoomID, sender: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool: ...

    def owns_room(self, room_id: RoomID) -> bool: ...

    def holds_room(self, room_id: RoomID, at: datetime) -> bool:
        """A youth's own room this part still has to write to: the bot does not leave it
        after the close."""
        ...

    def place(self, room_id: RoomID, language: Language) -> tuple[str, frozenset[str]] | None:
        """One of this part's rooms named for the staff ("group 3"), with the offices it
        belongs to (none: every office's); None if the room is not this part's."""
        ...

    async def room_message(self, room_id: RoomID, sender: UserID, event_id: EventID,
                           body: str, at: datetime, *, reaction: bool = False) -> None:
        """Words in one of this part's rooms; ``reaction``: a reaction's key (never a
        command; unencrypted in the room, `core/reactions.py`)."""
        ...

    async def member_named(self, room_id: RoomID, member: UserID, display_name: str,
                           event_id: EventID, at: datetime) -> None: ...

    async def member_left(self, room_id: RoomID, member: UserID, event_id: EventID,
                          at: datetime) -> None: ...

    async def youth_retracted(self, room_id: RoomID, youth: UserID, event_id: EventID,
                              original: EventID, words: str | None, at: datetime) -> bool:
        """The youth deleted (``words`` None) or edited their message ``original``; True if
        it was this part's and is dealt with."""
        ...

    async def unreadable(self, room_id: RoomID, writer: UserID, at: datetime) -> None: ...

    async def tick(self, at: datetime) -> None: ...

    async def load(self) -> None:
        """Read its state from the store again (the store is the truth)."""
        ...

    async def forget_youth(self, step: Change, youth: UserID, room: RoomID, *,
                           account: bool) -> None:
        """Erasure, with ``step``: stop naming anything from ``room``; with ``account`` (the
        youth's own deletion, which deactivates the account) stop naming ``youth`` too."""
        ...

    def youth_words(self, language: Language) -> tuple[str, ...]:
        """The words a youth can write alone for this part ("gruppe"), named by the
        youth's "hilfe"; none where they would only answer "not set up"."""
        ...

    def staff_help(self) -> tuple[HelpEntry, ...]:
        """This part's staff commands, listed by "!help"."""
        ...


ChatInvite = Callable[[Change, ConversationID, UserID], Awaitable[None]]
MailSwitch = Callable[[Change, ConversationID, str], Awaitable[None]]
MailCodeCheck = Callable[[Change, ConversationID, str], Awaitable[bool | None]]
# Burns the code in the change it is given, so the invitation commits with the burn.
RedeemCaseCode = Callable[[Change, str], Awaitable[ConversationID | None]]
