"""The conductor's transaction: router events into a `Change`, and the `Change` into the store.

`handle` hands events to the router and adds the actions it returns (and what the conductor's
parts add to them) to the change; `commit` writes the router's snapshot, new conversations,
intake, settings and the outbox as ONE store transition, and only then counts metrics and
wakes the outbox worker. A failed or repeated commit reloads the router from the store: the
store is the truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import offices, welcome
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.response_timers import setting_key as timer_key
from counsel_bot.conversation.supervision import setting_key as supervisors_key
from counsel_bot.conversation.video_calls import setting_key as video_key
from counsel_bot.core.effects import (
    Effect,
    SayToStaff,
    conversation_named,
    effect_key,
    encode_effect,
    routed,
)
from counsel_bot.core.group_effects import RoomNotice
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import spoken
from counsel_bot.core.routing import (
    Action,
    Assign,
    Closed,
    QueuePositionChanged,
    Reply,
    Router,
    Unassign,
)
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.actions import ReplyKey
from counsel_bot.core.routing.model import Channel, Role, RouterSnapshot
from counsel_bot.metrics import CounselMetrics, record_routing, routing_day_count
from counsel_bot.office_metrics import OfficeMetrics
from counsel_bot.store import OutboxEntry, Transition

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

log = logging.getLogger(__name__)

# The setting holding today's tally (the local day and its counts; `core/today.py`).
TODAY_KEY = "today_figures"


class Transitions:
    """`Conductor.handle`, `Conductor.commit` and what keeps memory and store agreeing."""

    def __init__(self, conductor: Conductor) -> None:
        # The conductor, not its router: a reload replaces the router.
        self.conductor = conductor
        # When a commit left the gauges stale (see `Conductor.defer_metrics`).
        self._metrics_due: datetime | None = None

    def handle(self, step: Change, events: Sequence[ev.Event], reply_room: RoomID | None) -> None:
        c = self.conductor
        for event in events:
            before = c.router.snapshot()
            actions: list[Action] = c.router.handle(event)
            step.after.append(_routing_counter(event, actions, before))
            step.today += routing_day_count(event, actions, before)
            if c.office_metrics is not None:
                step.after.append(_office_counter(c.office_metrics, event, actions, before))
            told = {a.conversation for a in actions if isinstance(a, QueuePositionChanged)}
            if told:
                # One place notice per youth and step, the latest: all of a step's share one
                # key (the version it ends at), and the outbox keeps the first of equal keys.
                # A flag raised after the opening told the youth the place behind everyone.
                step.effects = [(e, tag) for e, tag in step.effects if not (
                    isinstance(e, QueuePositionChanged) and e.conversation in told)]
            if reply_room is None:
                actions = [a for a in actions if not isinstance(a, Reply)]
                step.add_all(routed(actions, RoomID("")))
            else:
                step.add_all(routed(actions, reply_room))
            for action in actions:
                if isinstance(action, Closed):
                    c.video.end(step, action.conversation)
                    c.supervision.closed(step, action.conversation)
                    c.crisis.closed(action.conversation, _office(before, action.conversation))
                    c.appointments.closed(action.conversation,
                                          by_mail=_by_mail(before, action.conversation))
                if isinstance(action, Reply) and action.message_key is ReplyKey.OFFICE_TRANSFERRED:
                    # ``!transfer office:ID`` went through: the youth and the office are told.
                    offices.moved(step, action, c.router, c.policy.offices,
                                  c.policy.default_language)
                    # Its call's links are in the first office's staff room: the youth goes
                    # on in a call of the new office's, not one the first office can enter
                    # (an appointment's call is the first office's, as the appointment).
                    c.video.moved_office(step, ConversationID(str(action.param("id"))))
                if isinstance(action, Unassign):
                    c.video.handed_over(step, action.conversation,
                                        by_mail=_by_mail(before, action.conversation))
                if isinstance(action, Assign):
                    c.supervision.took_over(step, action.conversation, action.counsellor,
                                            action.assignment)
                    step.add(SayToStaff("staff_assigned",
                                        (("conversation", action.conversation),
                                         ("counsellor", action.counsellor))))
                    c.crisis.taken(step, c.router.conversation(action.conversation),
                                   action.assignment)
                    c.appointments.taken_over(step, action.conversation, action.counsellor)
            # Gone to another office (`!transfer office:ID`, the youth's answer to the
            # office question): a lead of the first one reading along is not the new one's.
            for read in sorted(r for r, leads in c.supervision.leads.items() if leads):
                now = c.router.conversation(read)
                if now is not None and now.office != _office(before, read):
                    self.readers_led(step, read)
            # Handed back, or left waiting by a counsellor signing off (the last one, after
            # closing?): told when the chat opens again (`welcome.handed_back`).
            back = {a.conversation for a in actions if isinstance(a, Unassign)}
            if isinstance(event, ev.CounsellorOffDuty):
                back |= set(c.router.queue())
            for conversation in sorted(back):
                self._handed_back(step, conversation)
            # Sent on while waiting (no hand-back above tells them): to a closed office, the
            # youth hears when it opens, as one who chose it does, not only its name.
            for action in actions:
                if isinstance(action, Reply) \
                        and action.message_key is ReplyKey.OFFICE_TRANSFERRED:
                    self._sent_on_waiting(step, ConversationID(str(action.param("id"))), back)

    def readers_led(self, step: Change, conversation: ConversationID, *,
                    configured: bool = False) -> None:
        """Only leads of ``conversation`` go on reading along in it (`Supervision.not_led`).
        ``configured``: as the configuration makes them, whoever is on duty now (a start):
        the on-call office's lead who began during a crisis its office had nobody on duty
        for stays, as she would without the restart."""
        c = self.conductor
        current = c.router.conversation(conversation)
        if current is None:
            return
        rules = c.policy.router.offices

        def leads(lead: UserID) -> bool:
            if configured:  # nobody on duty: the widest the offices' rules reach
                return c.policy.staff.get(lead) is Role.TEAM_LEAD \
                    and rules.leads_on(lead, current, frozenset())
            return c.staff.leads(lead, current)
        c.supervision.not_led(step, current, leads)

    def closed_since(self, step: Change, since: datetime | None) -> None:
        """The chat closed between ``since`` (the last tick; None after a start) and now:
        a youth still waiting, with nobody on duty to take them, hears when it opens
        again, as one handed back then does. "Nobody is free right now; as soon as someone
        is, it continues" was the last they read, and they waited through the night. The
        first tick after a start (None: no tick before it) tells each youth waiting in a
        closed chat: the close may have fallen while the bot was down. One told already is
        not told again: the notice's key names the opening it tells (`welcome.ooh_tag`),
        and the outbox keeps the first of equal keys."""
        c = self.conductor
        for conversation in c.router.queue():
            current = c.router.conversation(conversation)
            office = "" if current is None else current.office
            hours = offices.hours_of(c.policy.offices, office, c.policy.hours)
            if (since is None or hours.is_open(since)) and not hours.is_open(step.at):
                self._handed_back(step, conversation)

    def _handed_back(self, step: Change, conversation: ConversationID) -> None:
        """In the queue after closing with nobody on duty to take it: the youth hears when
        the chat opens again (`welcome.handed_back`)."""
        c = self.conductor
        current = c.router.conversation(conversation)
        if current is None:
            return
        rules, book = c.policy.router.offices, c.policy.offices
        # The router's answer to the counsellor signing off: the youth must not hear otherwise.
        someone = rules.anyone_takes(current, c.router.snapshot().counsellors)
        emergency = c.policy.emergency_for(current.office)
        welcome.handed_back(step, current, offices.hours_of(book, current.office, c.policy.hours),
                            emergency[spoken(current.language)], someone_can_take=someone,
                            mail=c.mail_switch is not None,
                            own_text=offices.closed_text(book, current.office,
                                                         spoken(current.language)),
                            language=spoken(current.language))

    def _sent_on_waiting(self, step: Change, conversation: ConversationID,
                         handed_back: set[ConversationID]) -> None:
        c = self.conductor
        current = c.router.conversation(conversation)
        if current is None or conversation in handed_back or current.assigned_to is not None \
                or current.channel is not Channel.CHAT:
            return
        offices.closed_notice(step, c.policy.offices, conversation, current.office,
                              spoken(current.language), default_hours=c.policy.hours,
                              default_emergency=c.policy.emergency,
                              mail=c.mail_switch is not None)

    async def commit(self, step: Change) -> bool:
        """Write the step; False if its event was handled before (nothing written)."""
        c = self.conductor
        if c.policy.offices.enabled:
            # A notice split in two (the office's room, the main one) keeps its tag for the
            # first; the second's is its own, as the outbox keeps the first of equal keys.
            step.effects = [
                (one, f"{tag}:everyone" if tag and i else tag)
                for e, tag in step.effects
                for i, one in enumerate(offices.reaching_everyone(await self._closed_to_office(
                    offices.to_office_room(e, c.router, c.policy.router.offices,
                                           c.policy.offices)), c.policy.offices))]
        if c.metrics is not None and step.today:
            # Counted now, as the router moved in `handle`: the tally written with this step
            # then holds every step before it, whichever commit lands last, and a failed or
            # repeated commit reloads it from the store with the router.
            c.metrics.count_today(step.today)
            step.settings.append((TODAY_KEY, c.metrics.today_state()))
        version = c.router.version
        named = self._named(step)
        outbox = tuple(
            OutboxEntry(effect_key(effect, version=version, index=i, tag=tag,
                                   cause=step.event_id),
                        encode_effect(effect), step.at, named[i])
            for i, (effect, tag) in enumerate(step.effects)
        )
        transition = Transition(step.at, c.router.snapshot(), step.event_id, outbox,
                                tuple(step.new), tuple(step.intake), tuple(step.settings),
                                tuple(step.sealed), step.forget_on_disk)
        try:
            committed = await c.store.commit_transition(transition)
        except BaseException:
            await self.reload(step.at)
            raise
        if not committed:
            await self.reload(step.at)  # handled before a restart: the store is the truth
            return False
        for done in step.committed:
            done()
        if outbox:
            c.committed()
        if c.metrics is not None:
            for count in step.after:
                count(c.metrics)
            self._metrics_due = step.at
            if not c.defer_metrics:
                self.refresh_due_metrics()
        return True

    async def _closed_to_office(self, effect: Effect) -> Effect:
        """A staff notice about a conversation the router no longer holds (closed) goes to
        the office it was closed in, as a report or a page after the close does: the main
        staff room is read by every office. Not when it calls somebody outside that office's
        room (an on-call office's counsellor): they must read it."""
        c = self.conductor
        if not isinstance(effect, SayToStaff) or effect.office:
            return effect
        named = dict(effect.params).get("conversation")
        if named is None or c.router.conversation(ConversationID(str(named))) is not None:
            return effect
        record = await c.store.conversation(ConversationID(str(named)))
        if record is None:
            return effect
        rules = c.policy.router.offices
        office = rules.home(record.office)
        members = c.policy.offices.desk(office).staff
        if not all(user in members for user in effect.mentions):
            return effect
        return replace(effect, office=office)

    def refresh_due_metrics(self) -> None:
        due, self._metrics_due = self._metrics_due, None
        if due is not None:
            self.conductor.refresh_metrics(due)  # the façade's, which others may wrap

    def _named(self, step: Change) -> list[ConversationID | None]:
        """The conversation each effect names, so its outbox row is erased with it. A group
        or forum notice into a youth's own room names the conversation held there. No await:
        the router must not move between here and its snapshot."""
        by_room = ({room: cid for cid, room in self.conductor.rooms.items()}
                   if any(isinstance(e, RoomNotice) for e, _ in step.effects) else {})
        return [conversation_named(e) or (by_room.get(e.room_id)
                                          if isinstance(e, RoomNotice) else None)
                for e, _ in step.effects]

    def refresh_metrics(self, now: datetime) -> None:
        c = self.conductor
        if c.metrics is not None:
            c.metrics.refresh_from_snapshot(c.router.snapshot(), c.nicknames, now,
                                            unsigned=c.devices.unsigned_staff())
            c.metrics.replies_overdue(c.overdue_replies(now))
        if c.office_metrics is not None:
            c.office_metrics.refresh(c.router.snapshot(), now)

    async def restore_today(self) -> None:
        """Today's figures as the store keeps them (at a start, and after a failed commit)."""
        c = self.conductor
        if c.metrics is not None and not c.metrics.restore_today(
                await c.store.get_setting(TODAY_KEY)):
            log.warning("today's figures in the store were unreadable; the day counts from 0")

    async def reload(self, at: datetime) -> None:
        c = self.conductor
        snapshot = await c.store.load_router_snapshot()
        c.router = Router.from_snapshot(snapshot, c.policy.router)
        c.router.unsigned = c.devices.unsigned_staff()
        await self.restore_today()
        # A lead's page marked sent in the failed step was never written: it is still due.
        await c.restore_waits(snapshot, at)
        c.crisis.forget_levels()
        # The working-day parts changed their memory with the failed step: the store decides.
        await c.appointments.load()
        await c.restore_appointment_calls(snapshot, replace=True)
        # Who reads along, as stored: a failed `!supervise end` sent nothing, so she is
        # still in the room, and the command given again must end it.
        c.supervision.leads = {}
        for conversation in snapshot.conversations:
            c.supervision.restore(conversation.conversation, await c.store.get_setting(
                supervisors_key(conversation.conversation)))
            c.timers.restore(conversation.conversation, await c.store.get_setting(
                timer_key(conversation.conversation)), replace=True)
            # The failed step's call was never sent: the room still shows the stored one,
            # which `!video end` and the close must remove.
            c.video.restore(conversation.conversation, await c.store.get_setting(
                video_key(conversation.conversation)), replace=True)


def _routing_counter(
    event: ev.Event, actions: list[Action], before: RouterSnapshot
) -> Callable[[CounselMetrics], None]:
    return lambda metrics: record_routing(metrics, event, actions, before)


def _office_counter(
    office_metrics: OfficeMetrics, event: ev.Event, actions: list[Action], before: RouterSnapshot
) -> Callable[[CounselMetrics], None]:
    return lambda _metrics: office_metrics.routed(event, actions, before)


def _office(snapshot: RouterSnapshot, conversation: ConversationID) -> str | None:
    return next((c.office for c in snapshot.conversations if c.conversation == conversation),
                None)


def _by_mail(snapshot: RouterSnapshot, conversation: ConversationID) -> bool:
    return any(c.conversation == conversation and c.channel is Channel.MAIL
               for c in snapshot.conversations)
