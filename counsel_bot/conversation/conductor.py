"""The bot's decisions between Matrix events and the router, made durable before they act.

Every handled Matrix event becomes one transition: the router's new state, the intake it
carries and the side effects it asks for (the outbox) are written in one transaction, and
only then does the executor perform the effects. A crash at any point therefore loses nothing
and repeats nothing: on restart the router is rebuilt from the store and pending effects are
performed again under their keys. No Matrix I/O here; time comes in with each call.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from counsel_bot.conversation import crisis_flags, deletion, feedback, supervision, video_calls
from counsel_bot.conversation import offices as offices
from counsel_bot.conversation.appointments import Appointments, AppointmentSettings
from counsel_bot.conversation.change import Change as Change  # re-exported for the mail channel
from counsel_bot.conversation.first_reply import FirstReplies
from counsel_bot.conversation.response_timers import ResponseTimers
from counsel_bot.conversation.response_timers import setting_key as timer_key
from counsel_bot.conversation.staff_events import staff_event
from counsel_bot.conversation.video_calls import VideoCalls
from counsel_bot.conversation.welcome import welcome
from counsel_bot.conversation.workday import Workday
from counsel_bot.core import commands as cmd
from counsel_bot.core.crisis import Assessor
from counsel_bot.core.device_trust_check import (
    DeviceTrustCheck,
    TrustNews,
    decide,
    decode_unsigned,
    encode_unsigned,
)
from counsel_bot.core.effects import (
    Effect,
    InviteYouth,
    Leave,
    SayInRoom,
    SayToStaff,
    SayToYouth,
    SetTopic,
    Transcript,
    conversation_named,
    effect_key,
    encode_effect,
    routed,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.incoming_text import looks_like_case_code, mail_address, storable
from counsel_bot.core.language import guess_language
from counsel_bot.core.messages import Language
from counsel_bot.core.offices import OfficeBook
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing import Action, Assign, Closed, Reply, Router
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.actions import ReplyKey
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    ConversationState,
    CrisisStatus,
    Role,
    RouterConfig,
    RouterSnapshot,
)
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.core.timers import TimerSettings
from counsel_bot.core.video import VideoSettings
from counsel_bot.core.workday_commands import (
    AppointmentCancel,
    AppointmentCommand,
    AppointmentList,
    WorkdayCommand,
    is_help_topic,
    parse_workday,
    workday_help,
)
from counsel_bot.metrics import CounselMetrics, record_routing
from counsel_bot.office_metrics import OfficeMetrics
from counsel_bot.store import (
    IntakeMessage,
    NewConversation,
    OutboxEntry,
    Store,
    Transition,
)
from counsel_bot.web.router_source import CrisisDetail


def new_conversation_id() -> ConversationID:
    """Short, unguessable, safe to show staff and to log: it reveals nothing about the youth."""
    return ConversationID("C-" + secrets.token_hex(4).upper())


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
        # Youths asked for their mail address, and who switches them (the mail channel).
        self.mail_asked: set[ConversationID] = set()
        self.mail_switch: MailSwitch | None = None
        # Mail youths invited to chat (the mail channel issues and redeems case codes).
        self.chat_invite: ChatInvite | None = None
        self.redeem_case_code: RedeemCaseCode | None = None
        self.video = VideoCalls(policy.video, policy.video_secret)
        self.supervision = supervision.Supervision(mail_on=lambda: self.mail_switch is not None)
        # Whether the bot can purge rooms and deactivate accounts (admin access); the bot
        # wires this to its executor. Without it, deletion is left to retention.
        self.can_delete: Callable[[], bool] = lambda: False
        # Called after a commit that stored effects (the bot wakes its outbox worker), so
        # mail, timers and chat alike have their effects performed at once.
        self.committed: Callable[[], None] = lambda: None
        # While set, a commit only notes that the gauges are stale and the one who set it
        # refreshes them later (`refresh_due_metrics`): the bot's sync loop does so once per
        # batch after the batch's effects have started, so the refresh (about 1 ms with 20
        # offices) is not in front of a youth's invitation. /metrics refreshes on each scrape.
        self.defer_metrics = False
        self._metrics_due: datetime | None = None
        # Staff devices not cross-signed by their owner, as last checked and announced in the
        # staff room (kept in the store's settings, so a restart does not warn again).
        self.unsigned_devices: dict[UserID, frozenset[str]] = {}
        # Parts with their own commands and rooms (group sessions, the forum), asked first.
        self.addons: list[Addon] = []
        self.timers = ResponseTimers(policy.timers, self._timers_of)
        self.workday = Workday(store, policy.snippets,
                               {o.id: policy.offices.desk(o.id).snippets
                                for o in policy.offices.offices})
        # Which office a staff room belongs to (the bot wires its office staff rooms).
        self.office_of_room: Callable[[RoomID], str | None] = lambda _room: None
        self.appointments = Appointments(store, policy.appointments, policy.hours,
                                         video_enabled=policy.video.enabled)
        self.appointments.by_mail = self._by_mail
        if policy.offices.enabled:
            self.appointments.office_of = self._office_of_conversation
            default = self.appointments.default_venue
            self.appointments.venue_of = lambda office: policy.offices.venue(office, default)
        # Per-office metrics beside `metrics`, only with several offices (the runner sets it).
        self.office_metrics: OfficeMetrics | None = None

    @property
    def crisis_details(self) -> dict[ConversationID, CrisisDetail]:
        """For the team-lead view: what each conversation's flag was about."""
        return self.crisis.details

    @classmethod
    async def open(
        cls, store: Store, detector: Assessor, policy: Policy, now: datetime,
        metrics: CounselMetrics | None = None, judge: crisis_flags.Judge | None = None,
    ) -> Conductor:
        snapshot = await store.load_router_snapshot()
        router = Router.from_snapshot(snapshot, policy.router)
        conductor = cls(router, store, detector, policy, metrics, judge)
        conductor.crisis.restore_waiting(snapshot, now)
        for conversation in snapshot.conversations:
            await conductor._remember(conversation.conversation)
        for user in policy.staff:
            unsigned = decode_unsigned(await store.get_setting(device_trust_key(user)))
            if unsigned:
                conductor.unsigned_devices[user] = unsigned
        conductor.router.unsigned = conductor._unsigned_staff()
        await conductor.appointments.load()
        return conductor

    async def _remember(self, conversation: ConversationID) -> None:
        record = await self.store.conversation(conversation)
        if record is not None:
            self.rooms[conversation] = record.room_id
        self.video.restore(
            conversation, await self.store.get_setting(video_calls.setting_key(conversation)))
        self.supervision.restore(
            conversation, await self.store.get_setting(supervision.setting_key(conversation)))
        self.crisis.restore(
            conversation, await self.store.get_setting(crisis_flags.setting_key(conversation)))
        self.timers.restore(conversation, await self.store.get_setting(timer_key(conversation)))

    # -- roster ---------------------------------------------------------------------------

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
        if events:
            step = Change(at, None)
            self.handle(step, events, reply_room=None)
            await self.commit(step)

    # -- staff devices --------------------------------------------------------------------

    async def devices_checked(self, check: DeviceTrustCheck, at: datetime) -> None:
        """A staff member's devices were checked (on duty, or their device list changed):
        warn in the staff room about new unsigned devices, say so once all are signed, and
        route to colleagues whose devices are all signed first meanwhile."""
        user = check.user
        if user not in self.policy.staff:
            return
        before = self.unsigned_devices.get(user, frozenset())
        decision = decide(before, check)
        if decision.news is TrustNews.NOTHING and decision.unsigned == before:
            return
        step = Change(at, None)
        # Keyed by time: the same device may need a warning again after an identity reset.
        tag = f"device_trust:{user}:{decision.news.value}:{at.isoformat()}"
        if decision.news is TrustNews.NEW_UNSIGNED:
            step.add(SayToStaff("staff_unsigned_devices",
                                (("counsellor", user), ("devices", _devices(decision.unsigned))),
                                mentions=(user,)), tag)
        elif decision.news is TrustNews.CLEARED:
            step.add(SayToStaff("staff_devices_verified", (("counsellor", user),),
                                mentions=(user,)), tag)
        step.settings.append((device_trust_key(user), encode_unsigned(decision.unsigned)))
        self._set_unsigned(user, decision.unsigned)
        try:
            await self.commit(step)
        except BaseException:
            self._set_unsigned(user, before)
            raise

    def _set_unsigned(self, user: UserID, unsigned: frozenset[str]) -> None:
        if unsigned:
            self.unsigned_devices[user] = unsigned
        else:
            self.unsigned_devices.pop(user, None)
        self.router.unsigned = self._unsigned_staff()

    def _unsigned_staff(self) -> frozenset[UserID]:
        return frozenset(self.unsigned_devices)

    def _duty_on(self, step: Change, room_id: RoomID, sender: UserID,
                 event: ev.StaffEvent) -> None:
        """``!duty on``: with a device its owner has not signed, refused or warned (config)."""
        unsigned = self.unsigned_devices.get(sender)
        if unsigned and self.policy.refuse_unsigned_devices:
            step.add(SayInRoom(room_id, sender, "duty.unsigned_refused",
                               (("devices", _devices(unsigned)),)))
            return
        self.handle(step, [event], reply_room=room_id)
        if unsigned:
            step.add(SayInRoom(room_id, sender, "duty.unsigned_warn",
                               (("devices", _devices(unsigned)),)))

    # -- youths ---------------------------------------------------------------------------

    async def youth_wrote(
        self, room_id: RoomID, youth: UserID, nickname: str | None, event_id: EventID,
        body: str, at: datetime, *, attachment: bool = False,
    ) -> None:
        if await self.store.is_processed(event_id):
            return
        for addon in self.addons:
            if await addon.youth_wrote(room_id, youth, event_id, body, at):
                return
        body = storable(body)
        step = Change(at, event_id)
        record = await self.store.conversation_by_room(room_id)
        if record is not None and record.state is ConversationState.CLOSED:
            await self._after_close(step, record.conversation, body)
            return
        if record is None and self.redeem_case_code is not None and looks_like_case_code(body):
            invited = await self.redeem_case_code(step, body)
            if invited is not None:
                step.add(InviteYouth(invited, youth, room_id))
                await self.commit(step)
                return
        if record is None:
            conversation = self._open(step, room_id, youth, nickname, body)
        else:
            conversation = record.conversation
        address = mail_address(body) if conversation in self.mail_asked else None
        if address is not None and self.mail_switch is not None:
            self.mail_asked.discard(conversation)
            await self.mail_switch(step, conversation, address)
            await self.commit(step)  # the address itself is not kept as intake
            return
        if record is not None and record.channel is Channel.MAIL:
            self.handle(step, [ev.ChannelChanged(at, conversation, Channel.CHAT)],
                        reply_room=None)
            step.add(SayToYouth(conversation, "channel.chat"))
            step.add(SetTopic(conversation, "chat"))
        step.intake.append(IntakeMessage(conversation, event_id, body.encode("utf-8")))
        self.timers.youth_wrote(step, conversation)
        if attachment:
            step.add(SayToYouth(conversation, "attachment_note"))
        # A first message is never a command, even "ende"; nor an answer to the office
        # question; a "ja" to a proposed appointment is its answer.
        elif (record is not None
              and not self._settle_office(step, conversation, body, record.language)
              and not self.appointments.youth_answered(step, conversation, body)):
            await self._youth_command(step, conversation, body)
        await self.check_crisis(step, conversation, body)
        await self.commit(step)

    async def youth_sent_unreadable(self, room_id: RoomID, event_id: EventID,
                                    at: datetime) -> None:
        record = await self.store.conversation_by_room(room_id)
        if record is None or await self.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        step.add(SayToYouth(record.conversation, "attachment_note"))
        await self.commit(step)

    async def youth_reached_out(
        self, room_id: RoomID, youth: UserID, nickname: str | None, at: datetime
    ) -> None:
        """A message the bot cannot decrypt (yet) still means a youth is reaching out: open
        the conversation so a counsellor comes, whose client may well read it. The event id
        is not claimed, so the message is kept if its key arrives later."""
        if await self.store.conversation_by_room(room_id) is not None:
            return
        step = Change(at, None)
        self._open(step, room_id, youth, nickname, "")
        await self.commit(step)

    async def _after_close(self, step: Change, conversation: ConversationID, body: str) -> None:
        scored = await self.store.get_setting(feedback.setting_key(conversation)) is not None
        feedback.after_close(step, conversation, body, scored_before=scored)
        if self.appointments.upcoming(conversation, step.at):
            # The bot stays in the room: its reminders for the appointment go there.
            step.effects = [(e, tag) for e, tag in step.effects if not isinstance(e, Leave)]
        await self.commit(step)

    def _open(
        self, step: Change, room_id: RoomID, youth: UserID, nickname: str | None, body: str
    ) -> ConversationID:
        conversation = new_conversation_id()
        language = guess_language(body, self.policy.default_language)
        step.new.append(NewConversation(conversation, room_id, youth, nickname))
        self.rooms[conversation] = room_id
        book = self.policy.offices
        office = offices.first_office(book, body)
        self.handle(step, [ev.ConversationOpened(step.at, conversation, language=language,
                                                 office=office)], reply_room=None)
        welcome(step, conversation, language, default_language=self.policy.default_language,
                hours=offices.hours_of(book, office, self.policy.hours),
                emergency=offices.emergency_of(book, office, self.policy.emergency))
        offices.announce(step, book, conversation, office, language)
        return conversation

    def _settle_office(
        self, step: Change, conversation: ConversationID, body: str, language: str
    ) -> bool:
        """The youth's answer to the office question (not a command like "ende")."""
        current = self.router.conversation(conversation)
        if current is None or current.office != UNDECIDED or cmd.parse_youth(body) is not None:
            return False
        lang: Language = "en" if language == "en" else "de"
        chosen = offices.answered(step, self.policy.offices, conversation, body, lang,
                                  default_hours=self.policy.hours,
                                  default_emergency=self.policy.emergency)
        self.handle(step, [chosen], reply_room=None)
        offices.tell_office(step, conversation, chosen.office, lang)
        return True

    def _office_moved(self, step: Change, reply: Reply) -> None:
        """``!transfer office:ID`` went through: the youth and the office are told."""
        offices.moved(step, reply, self.router, self.policy.offices,
                      self.policy.default_language)

    def _to_office_room(self, effect: Effect) -> Effect:
        return offices.to_office_room(effect, self.router, self.policy.router.offices,
                                      self.policy.offices)

    def _visible_to(
        self, user: UserID, conversation: ConversationID
    ) -> ConversationSnapshot | None:
        """A conversation of another office is unknown to `user` (as in the router)."""
        return offices.visible(self.router, self.policy.router.offices, user, conversation)

    def _leads_for(self, conversation: ConversationID) -> tuple[UserID, ...]:
        return offices.leads_for(conversation, self.router, self.policy.router.offices,
                                 self.policy.offices)

    async def _youth_command(
        self, step: Change, conversation: ConversationID, body: str
    ) -> None:
        command = cmd.parse_youth(body)
        if command is None:
            return
        kind = command.kind
        if kind is cmd.YouthCommandKind.HELP:
            step.add(SayToYouth(conversation, "youth_help"))
        elif kind is cmd.YouthCommandKind.END:
            self.handle(step, [ev.YouthEnded(step.at, conversation)], reply_room=None)
        elif kind is cmd.YouthCommandKind.VIDEO:
            current = self.router.conversation(conversation)
            self.video.by_youth(step, conversation, current, counsellor_name=self._name(
                None if current is None else current.assigned_to))
        elif kind is cmd.YouthCommandKind.MAIL:
            if self.mail_switch is None:
                step.add(SayToYouth(conversation, "mail.off"))
            else:
                self.mail_asked.add(conversation)
                step.add(SayToYouth(conversation, "mail.ask_address"))
        elif kind is cmd.YouthCommandKind.DELETE:
            deletion.ask(step, conversation, can_delete=self.can_delete())
        elif kind is cmd.YouthCommandKind.CONFIRM_DELETE:
            await self._delete_confirmed(step, conversation)
        else:
            step.add(SayToYouth(conversation, "not_available_yet"))

    async def _delete_confirmed(self, step: Change, conversation: ConversationID) -> None:
        asked = await self.store.get_setting(deletion.asked_key(conversation))
        erased = deletion.confirm(
            step, conversation, self.router.conversation(conversation), asked,
            emergency=self.policy.emergency, can_delete=self.can_delete(),
            end=lambda: self.handle(step, [ev.YouthEnded(step.at, conversation)],
                                    reply_room=None))
        if erased:
            self.rooms.pop(conversation, None)
            self.appointments.forget(conversation)
            self.crisis.forget(step, conversation)

    async def check_crisis(self, step: Change, conversation: ConversationID, body: str) -> None:
        before = self.router.conversation(conversation)
        known = before.severity if before and before.crisis is not CrisisStatus.NONE else 0
        raised = await self.crisis.observe(conversation, body, step.at, known)
        current = self.router.conversation(conversation)
        if raised is None or current is None:
            return
        self.handle(step, [ev.CrisisRaised(step.at, conversation, severity=raised.tier)],
                    reply_room=None)
        after = self.router.conversation(conversation)
        assert after is not None
        self.crisis.raised(step, raised, after, first=current.crisis is CrisisStatus.NONE,
                           emergency=self.policy.emergency)

    # -- staff ----------------------------------------------------------------------------

    async def staff_wrote(
        self, room_id: RoomID, sender: UserID, event_id: EventID, body: str, at: datetime
    ) -> None:
        for addon in self.addons:
            if await addon.staff_wrote(room_id, sender, event_id, body, at):
                return
        body = storable(body)
        workday = parse_workday(body)
        if workday is not None:
            await self._workday(room_id, sender, event_id, workday, at)
            return
        parsed = cmd.parse_staff(body)
        if parsed is None:
            await self._note_first_reply(room_id, sender, at)
            await self._counsellor_replied(room_id, sender)
            return
        if await self.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        record = await self.store.conversation_by_room(room_id)
        here = record.conversation if record is not None else None
        if isinstance(parsed, cmd.ParseError):
            step.add(SayInRoom(room_id, sender, parsed.key.value, (("hint", parsed.hint),)))
        elif isinstance(parsed, cmd.HelpCommand):
            help_text = cmd.help_text(self.policy.default_language, parsed.topic, staff=True)
            if parsed.topic is None or is_help_topic(parsed.topic):
                help_text = "\n".join(filter(None, (
                    help_text if parsed.topic is None else "",
                    workday_help(self.policy.default_language, parsed.topic))))
            step.add(SayInRoom(room_id, sender, "help_text", (("text", help_text),)))
        elif isinstance(parsed, cmd.ChatCommand):
            await self._invite_to_chat(step, room_id, sender, here)
        elif isinstance(parsed, cmd.VideoCommand):
            self._video(step, room_id, sender, here, parsed.end)
        elif isinstance(parsed, cmd.SuperviseCommand):
            self.supervision.command(
                step, room_id, sender, parsed, self._visible_to(sender, parsed.conversation),
                team_lead=self.policy.staff.get(sender) is Role.TEAM_LEAD)
        else:
            event = staff_event(parsed, sender, here, at)
            if event is None:
                step.add(SayInRoom(room_id, sender, cmd.ParseErrorKey.MISSING_ARGUMENT.value,
                                   (("hint", "… C-XXXXXXXX"),)))
            elif isinstance(event, ev.CounsellorOnDuty):
                self._duty_on(step, room_id, sender, event)
            else:
                self.handle(step, [event], reply_room=room_id)
                self.crisis.reviewed(step, event, self.router.conversation)
        if here is not None:
            # Staff asides never go into a youth's room: the reply goes to the staff room.
            step.effects = [(self._aside(e, here), tag) for e, tag in step.effects]
        await self.commit(step)

    async def _workday(
        self, room_id: RoomID, sender: UserID, event_id: EventID,
        command: WorkdayCommand | cmd.ParseError, at: datetime,
    ) -> None:
        """Case notes and snippets (conversation/workday.py); replies to the staff room."""
        if await self.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        record = await self.store.conversation_by_room(room_id)
        here = record.conversation if record is not None else None
        if isinstance(command, cmd.ParseError):
            step.add(SayInRoom(room_id, sender, command.key.value, (("hint", command.hint),)))
        elif isinstance(command, AppointmentCommand | AppointmentCancel | AppointmentList):
            self._appointment(step, room_id, sender, command, here)
        else:
            offices, several = self._command_offices(sender, room_id, here)
            await self.workday.command(step, room_id, sender, event_id, command, here,
                                       offices, several=several)
        if here is not None:
            step.effects = [(self._aside(e, here), tag) for e, tag in step.effects]
        await self.commit(step)

    def _appointment(
        self, step: Change, room_id: RoomID, sender: UserID,
        command: AppointmentCommand | AppointmentCancel | AppointmentList,
        here: ConversationID | None,
    ) -> None:
        lead = self.policy.staff.get(sender) is Role.TEAM_LEAD
        if isinstance(command, AppointmentList):
            self.appointments.list_for(step, room_id, sender)
        elif isinstance(command, AppointmentCancel):
            self.appointments.cancel(step, room_id, sender, command.appointment, team_lead=lead)
        else:
            conversation = command.conversation or here
            current = None if conversation is None else self.router.conversation(conversation)
            if current is None:
                step.add(SayInRoom(room_id, sender, "appointments.which"))
            elif current.channel is Channel.MAIL and self.mail_switch is None:
                # A mail conversation kept after mail was switched off: nothing can reach
                # its youth, so refused rather than lost.
                step.add(SayInRoom(room_id, sender, "appointments.mail"))
            elif self._may_act(step, room_id, sender, current):
                self.appointments.propose(step, room_id, sender, command, current.conversation)

    def _command_offices(
        self, sender: UserID, room_id: RoomID, here: ConversationID | None,
    ) -> tuple[tuple[str, ...], bool]:
        """The offices a staff command is about (none without offices), and whether that
        is unclear (several): the conversation's office in a youth's room, else the
        office whose staff room it is, else the sender's one office."""
        rules = self.policy.router.offices
        if not rules.enabled:
            return (), False
        current = None if here is None else self.router.conversation(here)
        if current is not None:
            office = rules.office_of(current)
            return (rules.fallback if office == UNDECIDED else office,), False
        mine = tuple(sorted(rules.offices_of(sender)))
        room_office = self.office_of_room(room_id)
        if room_office is not None and room_office in mine:
            return (room_office,), False
        return mine, len(mine) != 1

    def _timers_of(self, current: ConversationSnapshot) -> TimerSettings:
        """The response targets of the conversation's office (``[timers]`` without offices,
        or for what the office leaves unset: the config merged them)."""
        if not self.policy.offices.enabled:
            return self.policy.timers
        office = self.policy.router.offices.office_of(current)
        return self.policy.offices.desk(office).timers or self.policy.timers

    def _aside(self, effect: Effect, here: ConversationID) -> Effect:
        """A reply to a command typed in a youth's room, for the staff room; with offices,
        the one that hears about the conversation (a reply naming no conversation, such as a
        refused appointment, would otherwise land in the main staff room, away from the
        office)."""
        if not isinstance(effect, SayInRoom):
            return effect
        office = offices.staff_office(here, self.router, self.policy.router.offices,
                                      self.policy.offices) if self.policy.offices.enabled else ""
        return SayToStaff(effect.key, effect.params, mentions=(effect.to,), office=office)

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

    async def _note_first_reply(self, room_id: RoomID, sender: UserID, at: datetime) -> None:
        if self.metrics is None:
            return
        record = await self.store.conversation_by_room(room_id)
        current = None if record is None else self.router.conversation(record.conversation)
        waited = self.first_replies.wait(current, sender, at)
        if waited is not None:
            self.metrics.first_reply(waited)

    async def _counsellor_replied(self, room_id: RoomID, sender: UserID) -> None:
        """The wait is over: stored only when it changes (once per youth message answered)."""
        record = await self.store.conversation_by_room(room_id)
        current = None if record is None else self.router.conversation(record.conversation)
        changed = self.timers.counsellor_wrote(current, sender)
        if changed is not None:
            await self.store.set_setting(*changed)

    def overdue_replies(self, now: datetime) -> int:
        return self.timers.overdue(self.router.snapshot(), now)

    async def _invite_to_chat(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None
    ) -> None:
        current = None if here is None else self.router.conversation(here)
        if current is None or current.channel is not Channel.MAIL or self.chat_invite is None:
            step.add(SayInRoom(room_id, sender, "chat.only_mail"))
        elif self._may_act(step, room_id, sender, current):
            await self.chat_invite(step, current.conversation, sender)

    def _video(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None,
        end: bool,
    ) -> None:
        current = None if here is None else self.router.conversation(here)
        if current is None:
            step.add(SayInRoom(room_id, sender, "video.where"))
        elif self._may_act(step, room_id, sender, current):
            self.video.by_staff(step, current, end=end,
                                counsellor_name=self._name(current.assigned_to))

    def _may_act(
        self, step: Change, room_id: RoomID, sender: UserID, current: ConversationSnapshot
    ) -> bool:
        """Only its counsellor or a team lead acts for a conversation; others are told."""
        lead = self.policy.staff.get(sender) is Role.TEAM_LEAD
        if current.assigned_to == sender or (
                lead and self._visible_to(sender, current.conversation) is not None):
            return True
        step.add(SayInRoom(room_id, sender, "refused.not_yours", (("id", current.conversation),)))
        return False

    def _name(self, counsellor: UserID | None) -> str:
        return self.nicknames.get(counsellor, "") if counsellor else ""

    # -- membership and time ----------------------------------------------------------------

    async def member_joined(
        self, room_id: RoomID, user: UserID, event_id: EventID, at: datetime
    ) -> None:
        record = await self.store.conversation_by_room(room_id)
        if record is None or await self.store.is_processed(event_id):
            return
        current = self.router.conversation(record.conversation)
        if current is None:
            return
        if current.assigned_to == user:
            transcript = Transcript(record.conversation, user, current.assignments)
        elif self.supervision.is_reading(record.conversation, user):
            # A supervisor reads the earlier messages the same way a late counsellor does.
            transcript = Transcript(record.conversation, user, current.assignments,
                                    supervisor=True)
        else:
            return
        step = Change(at, event_id)
        step.add(transcript)
        await self.commit(step)

    async def member_left(
        self, room_id: RoomID, user: UserID, event_id: EventID, at: datetime
    ) -> None:
        record = await self.store.conversation_by_room(room_id)
        if record is None or await self.store.is_processed(event_id):
            return
        current = self.router.conversation(record.conversation)
        if current is None:
            return
        step = Change(at, event_id)
        if user == record.youth_user_id:
            self.handle(step, [ev.YouthEnded(at, record.conversation)], reply_room=None)
        elif user == current.assigned_to:
            self.handle(step, [ev.CounsellorLeftRoom(at, record.conversation, user)],
                         reply_room=None)
        elif self.supervision.is_reading(record.conversation, user):
            self.supervision.left(step, current, user)
        else:
            return
        await self.commit(step)

    async def tick(self, at: datetime) -> None:
        """Queue notices and ETA updates, and pages for crisis flags nobody handled."""
        step = Change(at, None)
        self.handle(step, [ev.Tick(at)], reply_room=None)
        if self.policy.offices.enabled:
            # A youth who never answers the office question is not left waiting unseen.
            self.handle(step, offices.unanswered(step, self.router, self.policy.offices),
                        reply_room=None)
        self.crisis.page_leads(step, self.router.snapshot(), self.policy.team_leads,
                               self.router.version,
                               self._leads_for if self.policy.offices.enabled else None)
        self.timers.due(step, self.router.snapshot(), lambda current: self._requeue(step, current))
        await self.appointments.due(step, lambda appointment, tell_youth: self.video.start(
            step, appointment.conversation, appointment.counsellor,
            self._name(appointment.counsellor), tell_youth=tell_youth))
        if step.effects:
            await self.commit(step)
        for addon in self.addons:
            await addon.tick(at)

    def _requeue(self, step: Change, current: ConversationSnapshot) -> None:
        """Nobody answered in time: hand back as its counsellor would (the router then puts
        it at the front and gives it to someone else; the youth is told by the hand-back)."""
        if current.assigned_to is None:
            return
        self.handle(step, [ev.Transfer(step.at, current.assigned_to, current.conversation,
                                       None)], reply_room=None)
        step.after.append(lambda metrics: metrics.requeued_unanswered())

    # -- the transition -----------------------------------------------------------------------

    def handle(self, step: Change, events: Sequence[ev.Event], reply_room: RoomID | None) -> None:
        for event in events:
            before = self.router.snapshot()
            actions: list[Action] = self.router.handle(event)
            step.after.append(_routing_counter(event, actions, before))
            if self.office_metrics is not None:
                step.after.append(_office_counter(self.office_metrics, event, actions, before))
            if reply_room is None:
                actions = [a for a in actions if not _is_reply(a)]
                step.add_all(routed(actions, RoomID("")))
            else:
                step.add_all(routed(actions, reply_room))
            for action in actions:
                if isinstance(action, Closed):
                    self.video.end(step, action.conversation)
                    self.supervision.closed(step, action.conversation)
                if isinstance(action, Reply) and action.message_key is ReplyKey.OFFICE_TRANSFERRED:
                    self._office_moved(step, action)
                if isinstance(action, Assign):
                    self.supervision.took_over(step, action.conversation, action.counsellor)
                    step.add(SayToStaff("staff_assigned",
                                        (("conversation", action.conversation),
                                         ("counsellor", action.counsellor))))

    async def commit(self, step: Change) -> None:
        if self.policy.offices.enabled:
            step.effects = [(self._to_office_room(e), tag) for e, tag in step.effects]
        version = self.router.version
        outbox = tuple(
            OutboxEntry(effect_key(effect, version=version, index=i, tag=tag,
                                   cause=step.event_id),
                        encode_effect(effect), step.at, conversation_named(effect))
            for i, (effect, tag) in enumerate(step.effects)
        )
        transition = Transition(step.at, self.router.snapshot(), step.event_id, outbox,
                                tuple(step.new), tuple(step.intake), tuple(step.settings),
                                tuple(step.sealed))
        try:
            committed = await self.store.commit_transition(transition)
        except BaseException:
            await self._reload()
            raise
        if not committed:
            await self._reload()  # handled before a restart: the store is the truth
            return
        if outbox:
            self.committed()
        if self.metrics is not None:
            for count in step.after:
                count(self.metrics)
            self._metrics_due = step.at
            if not self.defer_metrics:
                self.refresh_due_metrics()

    def refresh_due_metrics(self) -> None:
        """Refresh the gauges if a commit left them stale (see `defer_metrics`)."""
        due, self._metrics_due = self._metrics_due, None
        if due is not None:
            self.refresh_metrics(due)

    def refresh_metrics(self, now: datetime) -> None:
        if self.metrics is not None:
            self.metrics.refresh_from_snapshot(self.router.snapshot(), self.nicknames, now,
                                               unsigned=self._unsigned_staff())
            self.metrics.replies_overdue(self.overdue_replies(now))
        if self.office_metrics is not None:
            self.office_metrics.refresh(self.router.snapshot(), now)

    async def _reload(self) -> None:
        snapshot = await self.store.load_router_snapshot()
        self.router = Router.from_snapshot(snapshot, self.policy.router)
        self.router.unsigned = self._unsigned_staff()
        # The working-day parts changed their memory with the failed step: the store decides.
        await self.appointments.load()
        for conversation in snapshot.conversations:
            self.timers.restore(conversation.conversation, await self.store.get_setting(
                timer_key(conversation.conversation)), replace=True)


def device_trust_key(user: UserID) -> str:
    """Settings key of a staff member's announced unsigned devices (staff ids only)."""
    return f"device_trust:{user}"


def _devices(unsigned: frozenset[str]) -> str:
    return ", ".join(sorted(unsigned))


class Addon(Protocol):
    """A part with its own commands, rooms and timers (group sessions, the forum): the
    conductor asks it first, and it commits through `Conductor.commit`."""

    async def youth_wrote(self, room_id: RoomID, youth: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool: ...

    async def staff_wrote(self, room_id: RoomID, sender: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool: ...

    def owns_room(self, room_id: RoomID) -> bool: ...

    async def room_message(self, room_id: RoomID, sender: UserID, event_id: EventID,
                           body: str, at: datetime) -> None: ...

    async def tick(self, at: datetime) -> None: ...


ChatInvite = Callable[[Change, ConversationID, UserID], Awaitable[None]]
MailSwitch = Callable[[Change, ConversationID, str], Awaitable[None]]
# Burns the code in the change it is given, so the invitation commits with the burn.
RedeemCaseCode = Callable[[Change, str], Awaitable[ConversationID | None]]


def _routing_counter(
    event: ev.Event, actions: list[Action], before: RouterSnapshot
) -> Callable[[CounselMetrics], None]:
    return lambda metrics: record_routing(metrics, event, actions, before)


def _office_counter(
    office_metrics: OfficeMetrics, event: ev.Event, actions: list[Action], before: RouterSnapshot
) -> Callable[[CounselMetrics], None]:
    return lambda _metrics: office_metrics.routed(event, actions, before)


def _is_reply(action: Action) -> bool:
    return isinstance(action, Reply)
