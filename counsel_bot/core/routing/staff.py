"""Staff commands inside the router: authorisation first, then the transition."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.actions import Action, ReplyKey
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CounsellorSnapshot,
    CrisisStatus,
    Priority,
    Role,
    UnassignReason,
)
from counsel_bot.core.routing.state import RoutingState

_LANGUAGE = re.compile(r"[a-z]{2,3}")
_TOPIC = re.compile(r"[\w-]{1,32}")
_MAX_TOPICS = 10
_QUEUE_LISTED = 20


class StaffHandlers(RoutingState):
    def _staff_event(self, event: ev.StaffEvent) -> list[Action]:
        staff = self._counsellors.get(event.by)
        if staff is None:
            return [self._staff_reply(event.by, ReplyKey.REFUSED_NOT_STAFF)]
        match event:
            case ev.CounsellorOnDuty():
                self._counsellors[staff.user] = replace(staff, on_duty=True)
                load = self._loads().get(staff.user, 0)
                return [
                    self._staff_reply(
                        staff.user, ReplyKey.DUTY_ON, capacity=staff.capacity, load=load
                    )
                ]
            case ev.CounsellorOffDuty():
                self._counsellors[staff.user] = replace(staff, on_duty=False)
                reason = self._off_duty_reason(event.reason)
                actions = self._hand_back_all(staff.user, reason, event.at)
                return [*actions, self._off_duty_reply(staff, len(actions))]
            case ev.CapacitySet():
                return self._capacity_set(staff, event.capacity)
            case ev.LanguagesSet():
                return self._languages_set(staff, event.languages)
            case ev.TopicsSet():
                return self._topics_set(staff, event.topics)
            case ev.TakeNext():
                return self._take_next(staff, event)
            case ev.Take():
                return self._take(staff, event)
            case ev.Transfer():
                return self._transfer(staff, event)
            case ev.TransferToOffice():
                return self._transfer_to_office(staff, event)
            case ev.Close():
                return self._close_by_staff(staff, event)
            case ev.CrisisConfirmed() | ev.CrisisDismissed():
                return self._crisis_decision(staff, event)
            case ev.StatusRequested():
                return [self._status(staff)]
            case ev.QueueRequested():
                return [self._queue_overview(staff, event)]
        raise TypeError(f"the router does not know the event type {type(event).__name__}")

    def _off_duty_reply(self, staff: CounsellorSnapshot, handed_back: int) -> Action:
        """The reply "handed over" only while someone on duty can take what waits: the last
        one to go hears what now waits for nobody, crises counted, before leaving it so."""
        rules = self._config.offices
        nobody = [conv for conv in self._waiting_for(staff)
                  if not rules.anyone_takes(conv, self._counsellors.values())]
        if not nobody:
            return self._staff_reply(staff.user, ReplyKey.DUTY_OFF, handed_back=handed_back)
        return self._staff_reply(
            staff.user, ReplyKey.DUTY_OFF_NOBODY_LEFT, waiting=len(nobody),
            crisis=sum(1 for conv in nobody if conv.priority is Priority.CRISIS))

    # --- settings --------------------------------------------------------------------------

    def _capacity_set(self, staff: CounsellorSnapshot, capacity: int) -> list[Action]:
        if not 0 <= capacity <= self._config.max_capacity:
            return [
                self._staff_reply(
                    staff.user, ReplyKey.REFUSED_BAD_CAPACITY, max=self._config.max_capacity
                )
            ]
        self._counsellors[staff.user] = replace(staff, capacity=capacity)
        load = self._loads().get(staff.user, 0)
        return [self._staff_reply(staff.user, ReplyKey.CAPACITY_SET, capacity=capacity, load=load)]

    def _languages_set(self, staff: CounsellorSnapshot, languages: tuple[str, ...]) -> list[Action]:
        cleaned = tuple(sorted({lang.strip().lower() for lang in languages}))
        if not cleaned or not all(_LANGUAGE.fullmatch(lang) for lang in cleaned):
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_BAD_LANGUAGES)]
        self._counsellors[staff.user] = replace(staff, languages=cleaned)
        return [self._staff_reply(staff.user, ReplyKey.LANGUAGES_SET, languages=" ".join(cleaned))]

    def _topics_set(self, staff: CounsellorSnapshot, topics: tuple[str, ...]) -> list[Action]:
        cleaned = tuple(sorted({topic.strip().lower() for topic in topics}))
        if len(cleaned) > _MAX_TOPICS or not all(_TOPIC.fullmatch(t) for t in cleaned):
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_BAD_TOPICS, max=_MAX_TOPICS)]
        self._counsellors[staff.user] = replace(staff, topics=cleaned)
        return [self._staff_reply(staff.user, ReplyKey.TOPICS_SET, topics=" ".join(cleaned))]

    # --- taking ----------------------------------------------------------------------------

    def _may_take_one_more(self, staff: CounsellorSnapshot, *,
                           crisis: bool = False) -> ReplyKey | None:
        """A team lead may go past their capacity, and anybody on duty for a youth in
        crisis: its alert rings the counsellors who may take it, full or not
        (crisis_flags.raised), and a youth in crisis must not wait for a free place."""
        if not staff.on_duty:
            return ReplyKey.REFUSED_OFF_DUTY
        at_capacity = self._loads().get(staff.user, 0) >= staff.capacity
        if at_capacity and staff.role is not Role.TEAM_LEAD and not crisis:
            return ReplyKey.REFUSED_AT_CAPACITY
        return None

    def _take_next(self, staff: CounsellorSnapshot, event: ev.TakeNext) -> list[Action]:
        waiting = self._waiting_for(staff)
        crisis = bool(waiting) and waiting[0].priority is Priority.CRISIS
        refusal = self._may_take_one_more(staff, crisis=crisis)
        if refusal is not None:
            return [self._staff_reply(staff.user, refusal, capacity=staff.capacity)]
        if not waiting:
            return [self._staff_reply(staff.user, ReplyKey.QUEUE_EMPTY)]
        return [self._assign(waiting[0], staff.user, event.at, manual=True)]

    def _take(self, staff: CounsellorSnapshot, event: ev.Take) -> list[Action]:
        conv = self._visible(staff, event.conversation)
        cid = event.conversation
        if conv is None:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_UNKNOWN_CONVERSATION, id=cid)]
        if conv.assigned_to == staff.user:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_ALREADY_YOURS, id=cid)]
        if conv.state is ConversationState.ASSIGNED:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_ASSIGNED_TO_OTHER, id=cid)]
        refusal = self._may_take_one_more(staff, crisis=conv.priority is Priority.CRISIS)
        if refusal is not None:
            return [self._staff_reply(staff.user, refusal, capacity=staff.capacity)]
        skips_crisis = conv.priority is Priority.NORMAL and any(
            c.priority is Priority.CRISIS for c in self._waiting_for(staff))
        if skips_crisis and not self._leads(staff, conv):
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_CRISIS_WAITING, id=cid)]
        return [self._assign(conv, staff.user, event.at, manual=True)]

    # --- acting on assigned conversations --------------------------------------------------

    def _owned(
        self, staff: CounsellorSnapshot, event: ev.Transfer | ev.Close
    ) -> ConversationSnapshot | list[Action]:
        """The conversation if `staff` may act on it, else the refusal."""
        conv = self._visible(staff, event.conversation)
        cid = event.conversation
        if conv is None:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_UNKNOWN_CONVERSATION, id=cid)]
        if self._leads(staff, conv) or conv.assigned_to == staff.user:
            return conv
        if conv.assigned_to is None:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_TEAM_LEAD_ONLY, id=cid)]
        return [self._staff_reply(staff.user, ReplyKey.REFUSED_NOT_YOURS, id=cid)]

    def _transfer(self, staff: CounsellorSnapshot, event: ev.Transfer) -> list[Action]:
        owned = self._owned(staff, event)
        if isinstance(owned, list):
            return owned
        cid = owned.conversation
        if owned.assigned_to is None:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_NOT_ASSIGNED, id=cid)]
        if event.to is None:
            unassign = self._hand_back(owned, UnassignReason.RETURNED_TO_QUEUE, event.at)
            # Never given back to its counsellor by the auto-assigner: with nobody else on
            # duty to take it (a night shift alone), the youth would wait untold of anyone.
            if self._config.offices.anyone_takes(self._conversations[cid],
                                                 self._counsellors.values()):
                return [unassign]
            return [unassign, self._staff_reply(
                staff.user, ReplyKey.TRANSFER_QUEUE_NOBODY_LEFT, id=cid)]
        refusal = self._transfer_target_refusal(staff, owned, event.to)
        if refusal is not None:
            return [self._staff_reply(staff.user, refusal, id=cid)]
        unassign = self._hand_back(owned, UnassignReason.TRANSFERRED, event.at)
        back_in_queue = self._conversations[cid]
        return [unassign, self._assign(back_in_queue, event.to, event.at, manual=True)]

    def _transfer_target_refusal(
        self, staff: CounsellorSnapshot, conv: ConversationSnapshot, to: UserID
    ) -> ReplyKey | None:
        target = self._counsellors.get(to)
        if target is None:
            return ReplyKey.REFUSED_TARGET_NOT_STAFF
        if not self._config.offices.sees(to, conv, self._staffed()):
            return ReplyKey.REFUSED_TARGET_OTHER_OFFICE
        if to == conv.assigned_to:
            return ReplyKey.REFUSED_SAME_COUNSELLOR
        if not target.on_duty:
            return ReplyKey.REFUSED_TARGET_OFF_DUTY
        full = self._loads().get(to, 0) >= target.capacity
        # A lead may overload only themselves: a counsellor's capacity is their own limit.
        if full and not (self._leads(staff, conv) and to == staff.user):
            return ReplyKey.REFUSED_TARGET_FULL
        return None

    def _close_by_staff(self, staff: CounsellorSnapshot, event: ev.Close) -> list[Action]:
        owned = self._owned(staff, event)
        if isinstance(owned, list):
            return owned
        return [self._close(owned, event.at, staff.user)]

    def _crisis_decision(
        self, staff: CounsellorSnapshot, event: ev.CrisisConfirmed | ev.CrisisDismissed
    ) -> list[Action]:
        conv = self._visible(staff, event.conversation)
        cid = event.conversation
        if conv is None:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_UNKNOWN_CONVERSATION, id=cid)]
        confirming = isinstance(event, ev.CrisisConfirmed)
        if not self._leads(staff, conv) and conv.assigned_to != staff.user:
            if conv.assigned_to is not None:
                return [self._staff_reply(staff.user, ReplyKey.REFUSED_NOT_YOURS, id=cid)]
            if not confirming:
                # Dismissing lowers a waiting youth's priority: a lead's decision.
                return [self._staff_reply(staff.user, ReplyKey.REFUSED_TEAM_LEAD_ONLY, id=cid)]
        if not confirming and conv.crisis is CrisisStatus.NONE:
            # Nothing to dismiss: most likely the id of another conversation, whose flag is
            # still open. (Confirming one without a flag marks a crisis the detector missed.)
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_NO_CRISIS_FLAG, id=cid)]
        status = CrisisStatus.CONFIRMED if confirming else CrisisStatus.DISMISSED
        self._put(replace(conv, crisis=status))
        key = ReplyKey.CRISIS_CONFIRMED if confirming else ReplyKey.CRISIS_DISMISSED
        return [self._staff_reply(staff.user, key, id=cid)]

    # --- overviews -------------------------------------------------------------------------

    def _status(self, staff: CounsellorSnapshot) -> Action:
        mine = self._open_of(staff.user)
        # Read by a person on a night shift: no "=1", no empty "()" (found on a fresh install).
        open_ids = " ".join(c.conversation for c in mine)
        return self._staff_reply(
            staff.user,
            ReplyKey.STATUS if staff.on_duty else ReplyKey.STATUS_OFF_DUTY,
            role=staff.role.value,
            capacity=staff.capacity,
            load=len(mine),
            languages=" ".join(staff.languages) or "–",
            topics=" ".join(staff.topics) or "–",
            conversations=f" ({open_ids})" if open_ids else "",
        )

    def _queue_overview(self, staff: CounsellorSnapshot, event: ev.QueueRequested) -> Action:
        waiting = self._waiting_for(staff)
        loads = self._loads()
        rules = self._config.offices
        mine = rules.offices_of(staff.user)
        on_duty = [c for c in self._counsellors.values() if c.on_duty and (
            not rules.enabled or mine & rules.offices_of(c.user))]
        entries = " ".join(
            f"{c.conversation}:{c.priority.value}:{_minutes(event.at - c.waiting_since)}m"
            for c in waiting[:_QUEUE_LISTED]
        )
        return self._staff_reply(
            staff.user,
            ReplyKey.QUEUE,
            waiting=len(waiting),
            crisis=sum(1 for c in waiting if c.priority is Priority.CRISIS),
            on_duty=len(on_duty),
            free_slots=sum(max(0, c.capacity - loads.get(c.user, 0)) for c in on_duty),
            entries=f" {entries}" if entries else "",
        )


    # --- offices -----------------------------------------------------------------------------

    def _staffed(self) -> frozenset[str]:
        return self._config.offices.staffed(self._counsellors.values())

    def _leads(self, staff: CounsellorSnapshot, conv: ConversationSnapshot) -> bool:
        """Whether `staff` acts on `conv` as a team lead: a lead of its office."""
        return staff.role is Role.TEAM_LEAD and self._config.offices.leads_on(
            staff.user, conv, self._staffed())

    def _visible(
        self, staff: CounsellorSnapshot, conversation: ConversationID
    ) -> ConversationSnapshot | None:
        """The conversation if it is one of `staff`'s offices'; another office's is unknown
        to them, so a refusal does not even tell that it exists."""
        conv = self._conversations.get(conversation)
        if conv is None or not self._config.offices.sees(staff.user, conv, self._staffed()):
            return None
        return conv

    def _waiting_for(self, staff: CounsellorSnapshot) -> list[ConversationSnapshot]:
        rules = self._config.offices
        if not rules.enabled:
            return self._waiting()
        staffed = self._staffed()
        return [c for c in self._waiting() if rules.sees(staff.user, c, staffed)]

    def _transfer_to_office(
        self, staff: CounsellorSnapshot, event: ev.TransferToOffice
    ) -> list[Action]:
        rules = self._config.offices
        cid = event.conversation
        conv = self._visible(staff, cid)
        if conv is None:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_UNKNOWN_CONVERSATION, id=cid)]
        if not self._leads(staff, conv) and conv.assigned_to not in (None, staff.user):
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_NOT_YOURS, id=cid)]
        if event.office not in rules.offices:
            known = " ".join(rules.offices) or "-"
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_UNKNOWN_OFFICE,
                                      office=event.office, offices=known)]
        if rules.office_of(conv) == event.office:
            return [self._staff_reply(staff.user, ReplyKey.REFUSED_SAME_OFFICE, id=cid,
                                      office=event.office)]
        actions: list[Action] = []
        if conv.assigned_to is not None:
            actions.append(self._hand_back(conv, UnassignReason.TRANSFERRED, event.at))
            conv = self._conversations[cid]
        self._put(replace(conv, office=event.office, returned_by=None, last_notice=None))
        actions.append(self._staff_reply(staff.user, ReplyKey.OFFICE_TRANSFERRED, id=cid,
                                         office=event.office))
        return actions


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))
