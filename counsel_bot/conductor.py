"""The bot's decisions between Matrix events and the router, made durable before they act.

Every handled Matrix event becomes one transition: the router's new state, the intake it
carries and the side effects it asks for (the outbox) are written in one transaction, and
only then does the executor perform the effects. A crash at any point therefore loses nothing
and repeats nothing: on restart the router is rebuilt from the store and pending effects are
performed again under their keys. No Matrix I/O here; time comes in with each call.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from counsel_bot import commands as cmd
from counsel_bot.crisis import ConversationRisk, CrisisDetector
from counsel_bot.effects import (
    DeactivateYouth,
    Effect,
    EraseConversation,
    InviteYouth,
    Leave,
    PurgeRoom,
    PutWidget,
    SayInRoom,
    SayToStaff,
    SayToYouth,
    SendMail,
    SetTopic,
    Supervise,
    Transcript,
    effect_key,
    encode_effect,
    routed,
)
from counsel_bot.escalation import EscalationTracker
from counsel_bot.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.language import guess_language
from counsel_bot.messages import Language, text
from counsel_bot.metrics import CounselMetrics, record_routing
from counsel_bot.opening_hours import OpeningHours
from counsel_bot.routing import Action, Assign, Closed, Reply, Router
from counsel_bot.routing import events as ev
from counsel_bot.routing.model import (
    Channel,
    ConversationState,
    CrisisStatus,
    Role,
    RouterConfig,
    RouterSnapshot,
)
from counsel_bot.staff_events import staff_event
from counsel_bot.store import (
    IntakeMessage,
    NewConversation,
    OutboxEntry,
    Store,
    Transition,
)
from counsel_bot.video import VideoSettings, create_meeting
from counsel_bot.web.router_source import CrisisDetail

SEVERITY_TIER = {"low": 1, "medium": 2, "high": 3}
# How long "ja löschen" counts after "löschen": later, the youth is asked again.
DELETE_CONFIRM_WITHIN = timedelta(minutes=10)


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


@dataclass
class Change:
    """What one event changes, collected before it is committed as one transition."""

    at: datetime
    event_id: EventID | None
    effects: list[tuple[Effect, str]] = field(default_factory=list)
    new: list[NewConversation] = field(default_factory=list)
    intake: list[IntakeMessage] = field(default_factory=list)
    # Counted only once the transition is durable: a failed write must not count.
    after: list[Callable[[CounselMetrics], None]] = field(default_factory=list)
    # Small adapter facts (never content) written after the transition.
    settings: list[tuple[str, str]] = field(default_factory=list)

    def add(self, effect: Effect, tag: str = "") -> None:
        self.effects.append((effect, tag))

    def add_all(self, effects: Sequence[Effect]) -> None:
        self.effects.extend((effect, "") for effect in effects)


class Conductor:
    def __init__(
        self, router: Router, store: Store, detector: CrisisDetector, policy: Policy,
        metrics: CounselMetrics | None = None,
    ) -> None:
        self.router = router
        self.store = store
        self.detector = detector
        self.policy = policy
        self.metrics = metrics
        self.escalation = EscalationTracker(policy.escalate_after)
        # In memory only: the detector's short window of recent messages (see crisis docs).
        self._risk: dict[ConversationID, ConversationRisk] = {}
        # For the team-lead view: which room a conversation is in, what its flag was about.
        self.rooms: dict[ConversationID, RoomID] = {}
        self.crisis_details: dict[ConversationID, CrisisDetail] = {}
        self.nicknames: dict[UserID, str] = {}
        self._replied: set[tuple[ConversationID, int]] = set()
        # Youths asked for their mail address, and who switches them (the mail channel).
        self.mail_asked: set[ConversationID] = set()
        self.mail_switch: MailSwitch | None = None
        # Mail youths invited to chat (the mail channel issues and redeems case codes).
        self.chat_invite: ChatInvite | None = None
        self.redeem_case_code: Callable[[str], Awaitable[ConversationID | None]] | None = None
        # The current video widget per conversation, removed again at the end or on close.
        self.widgets: dict[ConversationID, str] = {}
        self.random_bytes: Callable[[int], bytes] = os.urandom
        # Team leads reading along (read-only), per conversation; kept in the settings.
        self.supervisors: dict[ConversationID, set[UserID]] = {}
        # Whether the bot can purge rooms and deactivate accounts (admin access); the bot
        # wires this to its executor. Without it, deletion is left to retention.
        self.can_delete: Callable[[], bool] = lambda: False

    @classmethod
    async def open(
        cls, store: Store, detector: CrisisDetector, policy: Policy, now: datetime,
        metrics: CounselMetrics | None = None,
    ) -> Conductor:
        snapshot = await store.load_router_snapshot()
        router = Router.from_snapshot(snapshot, policy.router)
        conductor = cls(router, store, detector, policy, metrics)
        conductor.escalation.restore(snapshot, now)
        for conversation in snapshot.conversations:
            await conductor._remember(conversation.conversation)
        return conductor

    async def _remember(self, conversation: ConversationID) -> None:
        record = await self.store.conversation(conversation)
        if record is not None:
            self.rooms[conversation] = record.room_id
        widget = await self.store.get_setting(f"widget:{conversation}")
        if widget:
            self.widgets[conversation] = widget
        leads = await self.store.get_setting(f"supervisors:{conversation}")
        if leads:
            self.supervisors[conversation] = {UserID(u) for u in leads.split()}
        detail = await self.store.get_setting(f"crisis:{conversation}")
        if detail:
            category, raised_at = detail.split("|", 1)
            self.crisis_details[conversation] = CrisisDetail(
                category, datetime.fromisoformat(raised_at))

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

    # -- youths ---------------------------------------------------------------------------

    async def youth_wrote(
        self, room_id: RoomID, youth: UserID, nickname: str | None, event_id: EventID,
        body: str, at: datetime, *, attachment: bool = False,
    ) -> None:
        if await self.store.is_processed(event_id):
            return
        body = _storable(body)
        step = Change(at, event_id)
        record = await self.store.conversation_by_room(room_id)
        if record is not None and record.state is ConversationState.CLOSED:
            await self._after_close(step, record.conversation, body)
            return
        if record is None and self.redeem_case_code is not None and _looks_like_code(body):
            invited = await self.redeem_case_code(body)
            if invited is not None:
                step.add(InviteYouth(invited, youth, room_id))
                await self.commit(step)
                return
        if record is None:
            conversation = self._open(step, room_id, youth, nickname, body)
        else:
            conversation = record.conversation
        address = _mail_address(body) if conversation in self.mail_asked else None
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
        if attachment:
            step.add(SayToYouth(conversation, "attachment_note"))
        elif record is not None:  # a first message is never a command, even "ende"
            await self._youth_command(step, conversation, body)
        self.check_crisis(step, conversation, body)
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
        """A closed conversation takes one thing: the optional score. Only the number is
        kept (as a metric); a comment could identify the youth, so none is asked for."""
        score = _feedback_score(body)
        key = f"feedback:{conversation}"
        if score is not None and await self.store.get_setting(key) is None:
            step.after.append(lambda m: m.feedback(score))
            step.settings.append((key, "1"))
            step.add(SayToYouth(conversation, "feedback_thanks"), f"thanks:{conversation}")
        else:
            step.add(SayToYouth(conversation, "closed_write_new"), f"closed-new:{conversation}")
        step.add(Leave(conversation), f"leave:{conversation}")
        await self.commit(step)

    def _open(
        self, step: Change, room_id: RoomID, youth: UserID, nickname: str | None, body: str
    ) -> ConversationID:
        conversation = new_conversation_id()
        language = guess_language(body, self.policy.default_language)
        step.new.append(NewConversation(conversation, room_id, youth, nickname))
        self.rooms[conversation] = room_id
        self.handle(step, [ev.ConversationOpened(step.at, conversation, language=language)],
                     reply_room=None)
        if language != self.policy.default_language:
            # The greeting on joining was in the default language; answer in theirs.
            step.add(SayToYouth(conversation, "greeting"), f"greet:{conversation}")
        step.add(SayToStaff("staff_new_conversation",
                            (("conversation", conversation), ("language", language))),
                 f"staff-new:{conversation}")
        if not self.policy.hours.is_open(step.at):
            step.add(self._out_of_hours(conversation, step.at, language), f"ooh:{conversation}")
        return conversation

    def _out_of_hours(
        self, conversation: ConversationID, at: datetime, language: Language
    ) -> SayToYouth:
        opening = self.policy.hours.next_opening(at)
        when = "-" if opening is None else opening.astimezone(
            self.policy.hours.timezone).strftime("%d.%m. %H:%M")
        return SayToYouth(conversation, "out_of_hours",
                          (("next_opening", when), ("emergency", self.policy.emergency[language])))

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
            self._video_by_youth(step, conversation)
        elif kind is cmd.YouthCommandKind.MAIL:
            if self.mail_switch is None:
                step.add(SayToYouth(conversation, "mail.off"))
            else:
                self.mail_asked.add(conversation)
                step.add(SayToYouth(conversation, "mail.ask_address"))
        elif kind is cmd.YouthCommandKind.DELETE:
            key = "delete.confirm" if self.can_delete() else "delete.confirm_later"
            step.add(SayToYouth(conversation, key))
            step.settings.append((f"delete-asked:{conversation}", step.at.isoformat()))
        elif kind is cmd.YouthCommandKind.CONFIRM_DELETE:
            await self._delete_confirmed(step, conversation)
        else:
            step.add(SayToYouth(conversation, "not_available_yet"))

    # -- youth-initiated deletion -------------------------------------------------------------

    async def _delete_confirmed(self, step: Change, conversation: ConversationID) -> None:
        """Close, then (with admin access) purge the room, deactivate the anonymous account
        and erase the records: outbox effects in that order, so a crash anywhere completes
        the deletion after a restart, and the records outlive the purge that needs them."""
        asked = await self.store.get_setting(f"delete-asked:{conversation}")
        current = self.router.conversation(conversation)
        if not asked or current is None \
                or step.at - datetime.fromisoformat(asked) > DELETE_CONFIRM_WITHIN:
            step.add(SayToYouth(conversation, "delete.ask_first"))
            return
        step.settings.append((f"delete-asked:{conversation}", ""))
        language: Language = "en" if current.language == "en" else "de"
        emergency = (("emergency", self.policy.emergency[language]),)
        counsellor = current.assigned_to
        mentions = (counsellor,) if counsellor else ()
        now = self.can_delete()
        step.add(SayToYouth(conversation, "delete.now" if now else "delete.by_retention",
                            emergency))
        self.handle(step, [ev.YouthEnded(step.at, conversation)], reply_room=None)
        staff_key = "staff_deleted" if now else "staff_delete_by_retention"
        step.add(SayToStaff(staff_key, (("conversation", conversation),), mentions=mentions))
        if not now:
            return  # closed normally: retention purges it after the set period
        step.add(PurgeRoom(conversation), f"purge:{conversation}")
        step.add(DeactivateYouth(conversation), f"deactivate:{conversation}")
        step.add(EraseConversation(conversation), f"erase:{conversation}")
        self.rooms.pop(conversation, None)
        self._risk.pop(conversation, None)
        if self.crisis_details.pop(conversation, None) is not None:
            step.settings.append((f"crisis:{conversation}", ""))

    def check_crisis(self, step: Change, conversation: ConversationID, body: str) -> None:
        risk = self._risk.setdefault(conversation, ConversationRisk(self.detector))
        raised = risk.observe(body, step.at)
        current = self.router.conversation(conversation)
        if not raised.flag or raised.severity is None or current is None:
            return
        first_flag = current.crisis is CrisisStatus.NONE
        self.handle(step, [ev.CrisisRaised(step.at, conversation,
                                            severity=SEVERITY_TIER[raised.severity])],
                     reply_room=None)
        after = self.router.conversation(conversation)
        assert after is not None
        counsellor = after.assigned_to
        waited = max(0, int((step.at - after.enqueued_at).total_seconds() // 60))
        step.add(SayToStaff(
            "staff_crisis_alert",
            (("conversation", conversation), ("category", raised.category or "-"),
             ("severity", raised.severity), ("waiting", waited),
             ("assigned", counsellor or "-"), ("rules", " ".join(raised.rules))),
            mentions=(counsellor,) if counsellor else (),
        ))
        category, severity = raised.category or "suicide", raised.severity
        step.after.append(lambda m: m.crisis_flagged(category, severity))
        if conversation not in self.crisis_details:
            self.crisis_details[conversation] = CrisisDetail(category, step.at)
            step.settings.append((f"crisis:{conversation}",
                                  f"{category}|{step.at.isoformat()}"))
        if first_flag:
            language: Language = "en" if after.language == "en" else "de"
            step.add(SayToYouth(conversation, "safety_info",
                                (("emergency", self.policy.emergency[language]),)),
                     f"safety:{conversation}")
        self.escalation.flagged(conversation, step.at,
                                assigned=after.state is ConversationState.ASSIGNED)

    # -- staff ----------------------------------------------------------------------------

    async def staff_wrote(
        self, room_id: RoomID, sender: UserID, event_id: EventID, body: str, at: datetime
    ) -> None:
        body = _storable(body)
        parsed = cmd.parse_staff(body)
        if parsed is None:
            await self._note_first_reply(room_id, sender, at)
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
            step.add(SayInRoom(room_id, sender, "help_text", (("text", help_text),)))
        elif isinstance(parsed, cmd.ChatCommand):
            await self._invite_to_chat(step, room_id, sender, here)
        elif isinstance(parsed, cmd.VideoCommand):
            self._video_by_staff(step, room_id, sender, here, parsed.end)
        elif isinstance(parsed, cmd.SuperviseCommand):
            self._supervise(step, room_id, sender, parsed)
        else:
            event = staff_event(parsed, sender, here, at)
            if event is None:
                step.add(SayInRoom(room_id, sender, cmd.ParseErrorKey.MISSING_ARGUMENT.value,
                                   (("hint", "… C-XXXXXXXX"),)))
            else:
                self.handle(step, [event], reply_room=room_id)
                self._note_review(step, event)
        if here is not None:
            # Staff asides never go into a youth's room: the reply goes to the staff room.
            step.effects = [(_to_staff_room(e), tag) for e, tag in step.effects]
        await self.commit(step)

    def _note_review(self, step: Change, event: ev.StaffEvent) -> None:
        """Confirmed and dismissed flags are counted (for the false-flag rate), by category."""
        if not isinstance(event, ev.CrisisConfirmed | ev.CrisisDismissed):
            return
        current = self.router.conversation(event.conversation)
        wanted = (CrisisStatus.CONFIRMED if isinstance(event, ev.CrisisConfirmed)
                  else CrisisStatus.DISMISSED)
        if current is None or current.crisis is not wanted:
            return  # refused
        detail = self.crisis_details.get(event.conversation)
        category = detail.category if detail else "suicide"
        outcome = wanted.value
        step.after.append(lambda m: m.crisis_reviewed(category, outcome))

    async def _note_first_reply(self, room_id: RoomID, sender: UserID, at: datetime) -> None:
        """Time from assignment to the counsellor's first words in the room (in memory:
        after a restart, a reply already counted may count again; the histogram tolerates
        that better than a store write per message)."""
        if self.metrics is None:
            return
        record = await self.store.conversation_by_room(room_id)
        current = None if record is None else self.router.conversation(record.conversation)
        if current is None or current.assigned_to != sender or current.assigned_at is None:
            return
        key = (current.conversation, current.assignments)
        if key not in self._replied:
            self._replied.add(key)
            self.metrics.first_reply(at - current.assigned_at)

    async def _invite_to_chat(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None
    ) -> None:
        current = None if here is None else self.router.conversation(here)
        if current is None or current.channel is not Channel.MAIL or self.chat_invite is None:
            step.add(SayInRoom(room_id, sender, "chat.only_mail"))
        elif current.assigned_to != sender and self.policy.staff.get(sender) is not Role.TEAM_LEAD:
            step.add(SayInRoom(room_id, sender, "refused.not_yours",
                               (("id", current.conversation),)))
        else:
            await self.chat_invite(step, current.conversation, sender)

    # -- supervision --------------------------------------------------------------------------

    def _supervise(
        self, step: Change, room_id: RoomID, sender: UserID, command: cmd.SuperviseCommand
    ) -> None:
        conversation = command.conversation

        def reply(key: str) -> None:
            step.add(SayInRoom(room_id, sender, key, (("id", conversation),)))

        current = self.router.conversation(conversation)
        leads = self.supervisors.get(conversation, set())
        if self.policy.staff.get(sender) is not Role.TEAM_LEAD:
            reply("refused.team_lead_only")
        elif current is None:
            reply("refused.unknown_conversation")
        elif command.end:
            if sender in leads:
                self._stop_supervising(step, conversation, sender, tell_youth=True)
            reply("supervise.off" if sender in leads else "supervise.not_active")
        elif sender in leads:
            reply("supervise.already")
        elif current.assigned_to == sender:
            reply("refused.already_yours")
        else:
            self.supervisors[conversation] = leads | {sender}
            step.settings.append((f"supervisors:{conversation}",
                                  " ".join(sorted(self.supervisors[conversation]))))
            # The youth hears it first: nothing reaches the lead before the youth knows.
            self._tell_youth(step, conversation, "supervision.started")
            step.add(Supervise(conversation, sender))
            reply("supervise.on")

    def _stop_supervising(
        self, step: Change, conversation: ConversationID, lead: UserID, *, tell_youth: bool
    ) -> None:
        leads = self.supervisors.get(conversation, set()) - {lead}
        self.supervisors[conversation] = leads
        step.settings.append((f"supervisors:{conversation}", " ".join(sorted(leads))))
        step.add(Supervise(conversation, lead, end=True))
        if tell_youth:
            self._tell_youth(step, conversation, "supervision.ended")

    def _tell_youth(self, step: Change, conversation: ConversationID, key: str) -> None:
        """Into the room, or by mail for a mail youth, who is never in the room."""
        current = self.router.conversation(conversation)
        if current is not None and current.channel is Channel.MAIL and \
                self.mail_switch is not None:
            language: Language = "en" if current.language == "en" else "de"
            step.add(SendMail(conversation, text(key, language)))
        else:
            step.add(SayToYouth(conversation, key))

    # -- video ------------------------------------------------------------------------------

    def _video_by_staff(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None,
        end: bool,
    ) -> None:
        current = None if here is None else self.router.conversation(here)
        if current is None:
            step.add(SayInRoom(room_id, sender, "video.where"))
            return
        if current.assigned_to != sender and self.policy.staff.get(sender) is not Role.TEAM_LEAD:
            step.add(SayInRoom(room_id, sender, "refused.not_yours",
                               (("id", current.conversation),)))
            return
        if end:
            self._end_video(step, current.conversation)
        else:
            self._start_video(step, current.conversation, counsellor=current.assigned_to)

    def _video_by_youth(self, step: Change, conversation: ConversationID) -> None:
        current = self.router.conversation(conversation)
        if not self.policy.video.youth_may_request:
            step.add(SayToYouth(conversation, "video.ask_counsellor"))
        elif current is None or current.assigned_to is None:
            step.add(SayToYouth(conversation, "video.after_counsellor"))
        else:
            self._start_video(step, conversation, counsellor=current.assigned_to)

    def _start_video(
        self, step: Change, conversation: ConversationID, counsellor: UserID | None
    ) -> None:
        """A new, unguessable meeting; its links are made here, before anything is sent,
        so a replay after a crash posts the same links instead of a second meeting."""
        if not self.policy.video.enabled:
            step.add(SayToYouth(conversation, "video.off"))
            return
        self._end_video(step, conversation)
        name = self.nicknames.get(counsellor, "") if counsellor else ""
        meeting = create_meeting(self.policy.video, secret=self.policy.video_secret,
                                 now=step.at, random_bytes=self.random_bytes,
                                 counsellor_name=name)
        step.add(PutWidget(conversation, meeting.widget_id,
                           tuple(meeting.widget_content.items())))
        step.add(SayToYouth(conversation, "video.link", (("url", meeting.youth_url),)))
        if meeting.counsellor_url != meeting.youth_url and counsellor is not None:
            # The moderator link stays with staff: the youth's room shows the youth's link.
            step.add(SayToStaff("video.counsellor_link",
                                (("conversation", conversation),
                                 ("url", meeting.counsellor_url)),
                                mentions=(counsellor,)))
        self.widgets[conversation] = meeting.widget_id
        step.settings.append((f"widget:{conversation}", meeting.widget_id))

    def _end_video(self, step: Change, conversation: ConversationID) -> None:
        widget = self.widgets.pop(conversation, None)
        if widget is not None:
            step.add(PutWidget(conversation, widget), f"unwidget:{conversation}:{widget}")
            step.settings.append((f"widget:{conversation}", ""))

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
        elif user in self.supervisors.get(record.conversation, ()):
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
        elif user in self.supervisors.get(record.conversation, ()):
            self._stop_supervising(step, record.conversation, user, tell_youth=True)
        else:
            return
        await self.commit(step)

    async def tick(self, at: datetime) -> None:
        """Queue notices and ETA updates, and pages for crisis flags nobody handled."""
        step = Change(at, None)
        self.handle(step, [ev.Tick(at)], reply_room=None)
        self.escalation.update(self.router.snapshot())
        for conversation, waited in self.escalation.due(at):
            step.after.append(lambda m: m.escalated())
            leads = self.policy.team_leads
            step.add(SayToStaff(
                "staff_lead_page",
                (("conversation", conversation), ("minutes", int(waited.total_seconds() // 60)),
                 ("leads", " ".join(leads) or "Team")),
                mentions=leads,
            ), f"page:{conversation}:{self.router.version}")
        if step.effects:
            await self.commit(step)

    # -- the transition -----------------------------------------------------------------------

    def handle(self, step: Change, events: Sequence[ev.Event], reply_room: RoomID | None) -> None:
        for event in events:
            before = self.router.snapshot()
            actions: list[Action] = self.router.handle(event)
            step.after.append(_routing_counter(event, actions, before))
            if reply_room is None:
                actions = [a for a in actions if not _is_reply(a)]
                step.add_all(routed(actions, RoomID("")))
            else:
                step.add_all(routed(actions, reply_room))
            for action in actions:
                if isinstance(action, Closed):
                    self._end_video(step, action.conversation)
                    for lead in sorted(self.supervisors.get(action.conversation, ())):
                        self._stop_supervising(step, action.conversation, lead,
                                               tell_youth=False)
                if isinstance(action, Assign):
                    if action.counsellor in self.supervisors.get(action.conversation, ()):
                        # Taking over: no longer a reader; the executor restores writing.
                        leads = self.supervisors[action.conversation] - {action.counsellor}
                        self.supervisors[action.conversation] = leads
                        step.settings.append((f"supervisors:{action.conversation}",
                                              " ".join(sorted(leads))))
                    step.add(SayToStaff("staff_assigned",
                                        (("conversation", action.conversation),
                                         ("counsellor", action.counsellor))))

    async def commit(self, step: Change) -> None:
        version = self.router.version
        outbox = tuple(
            OutboxEntry(effect_key(effect, version=version, index=i, tag=tag,
                                   cause=step.event_id),
                        encode_effect(effect), step.at)
            for i, (effect, tag) in enumerate(step.effects)
        )
        transition = Transition(step.at, self.router.snapshot(), step.event_id, outbox,
                                tuple(step.new), tuple(step.intake))
        try:
            committed = await self.store.commit_transition(transition)
        except BaseException:
            await self._reload()
            raise
        if not committed:
            await self._reload()  # handled before a restart: the store is the truth
            return
        for key, value in step.settings:
            await self.store.set_setting(key, value)
        if self.metrics is not None:
            for count in step.after:
                count(self.metrics)
            self.refresh_metrics(step.at)

    def refresh_metrics(self, now: datetime) -> None:
        if self.metrics is not None:
            self.metrics.refresh_from_snapshot(self.router.snapshot(), self.nicknames, now)

    async def _reload(self) -> None:
        snapshot = await self.store.load_router_snapshot()
        self.router = Router.from_snapshot(snapshot, self.policy.router)


_SURROGATE = re.compile("[\ud800-\udfff]")
ChatInvite = Callable[[Change, ConversationID, UserID], Awaitable[None]]
_CASE_CODE = re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}")


def _looks_like_code(body: str) -> bool:
    return bool(_CASE_CODE.fullmatch(body.strip().casefold()))


MailSwitch = Callable[[Change, ConversationID, str], Awaitable[None]]
_ADDRESS = re.compile(r"[^@\s<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


def _mail_address(body: str) -> str | None:
    """A message that is just a mail address (a youth answering "which address?")."""
    text = body.strip().strip("<>")
    return text if _ADDRESS.fullmatch(text) else None


def _to_staff_room(effect: Effect) -> Effect:
    if isinstance(effect, SayInRoom):
        return SayToStaff(effect.key, effect.params, mentions=(effect.to,))
    return effect


def _storable(body: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become U+FFFD instead of crashing."""
    return _SURROGATE.sub("\ufffd", body)


def _feedback_score(body: str) -> int | None:
    text = body.strip().rstrip(".!")
    return int(text) if text in {"1", "2", "3", "4", "5"} else None


def _routing_counter(
    event: ev.Event, actions: list[Action], before: RouterSnapshot
) -> Callable[[CounselMetrics], None]:
    return lambda metrics: record_routing(metrics, event, actions, before)


def _is_reply(action: Action) -> bool:
    return isinstance(action, Reply)
