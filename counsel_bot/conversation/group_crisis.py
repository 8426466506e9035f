"""A crisis in a group's room: who is alerted and what the youth is offered. Part of the
group desk (`groups.py`), apart so that each stays one job.

A flag names only the group and the nickname in the staff room, never the words; the group
hears nothing of it. The youth is offered a 1:1 in their own chat, and a chat of theirs that
is open (queued, or with a counsellor) carries the flag itself; one their answer to the
offer opens (or opens again) carries it too (`offer_key`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.crisis_flags import SEVERITY_TIER, RaisedFlag
from counsel_bot.core import groups as g
from counsel_bot.core.effects import SayToStaff, SayToYouth
from counsel_bot.core.group_effects import RoomNotice
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.incoming_text import storable
from counsel_bot.core.messages import spoken
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import ConversationSnapshot, ConversationState, CrisisStatus
from counsel_bot.core.today import DayCount
from counsel_bot.store import ConversationRecord

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


def crisis_key(number: int, nickname: str) -> ConversationID:
    """The crisis window of one youth in one group, apart from any 1:1 conversation."""
    return ConversationID(f"G{number}/{nickname}")


# A 1:1 offered in the youth's own room while no chat of theirs is open there (none yet:
# most sign up with "gruppe 1" alone; or closed): ``group_offer:<room>`` = when, and the
# flag the group's words raised. What the youth writes there within ``OFFER_LASTS`` takes
# it up: the chat it opens, or opens again, carries that flag (first in the queue, named to
# those who may take it), not an ordinary place behind everybody else. Keyed by the room:
# erased with the room's conversation (`store.contract.names_conversation`), deleted with
# the youth's seat (`GroupDesk.forget_youth`), once taken up, and once lapsed
# (`GroupCrisis.drop_lapsed_offers`): most youths' rooms hold no conversation, and no
# erasure would ever find it. Names no words, only the flag's level.
OFFER_LASTS = timedelta(days=1)
OFFER_PREFIX = "group_offer:"
# How often the running bot looks for lapsed offers (a scan of the settings).
OFFERS_SWEPT = timedelta(hours=1)


def offer_key(room: RoomID) -> str:
    return f"{OFFER_PREFIX}{room}"


def offer_value(at: datetime, raised: RaisedFlag) -> str:
    rules = " ".join(r.replace("|", "") for r in raised.rules)
    return "|".join((at.isoformat(), raised.severity, raised.category or "", raised.source,
                     "1" if raised.outright else "", "1" if raised.explicit else "", rules))


def offered_flag(value: str, at: datetime) -> RaisedFlag | None:
    """The flag an offer stored as ``value`` carries, if it still stands at ``at``."""
    parts = value.split("|")
    try:
        when = datetime.fromisoformat(parts[0])
    except ValueError:
        return None
    if at - when > OFFER_LASTS:
        return None
    if len(parts) < 7 or parts[1] not in SEVERITY_TIER:
        return RaisedFlag("suicide", "high", ())  # unreadable: what a group flag may mean
    _, severity, category, source, outright, explicit, rules = parts[:7]
    return RaisedFlag(category or None, severity, tuple(rules.split()),
                      explicit=bool(explicit), source=source or "rule", outright=bool(outright))


def flag_conversation(conductor: Conductor, step: Change, current: ConversationSnapshot,
                      raised: RaisedFlag, *, youth_told: bool = True,
                      counted: bool = False) -> None:
    """Raise the youth's conversation's flag with what the group's words raised, as their
    words in the chat would (`YouthSide.check_crisis`); not again at a level its flag holds
    already (its counsellor knows). ``youth_told`` False: the youth got the group's offer,
    with the numbers, instead of the chat's safety text. ``counted``: the flag was counted
    when the group's words raised it (an offer taken up later), not once more now."""
    c = conductor
    if current.crisis is not CrisisStatus.NONE and current.severity >= raised.tier:
        return
    conversation = current.conversation
    c.handle(step, [ev.CrisisRaised(step.at, conversation, severity=raised.tier,
                                    outright=raised.outright)], reply_room=None)
    after = c.router.conversation(conversation)
    if after is None:
        return
    today, counts = step.today, len(step.after)
    c.crisis.raised(step, raised, after, first=current.crisis is CrisisStatus.NONE,
                    emergency=c.policy.emergency_for(after.office),
                    takers=c.policy.router.offices.who_takes(
                        after, c.router.snapshot().counsellors))
    if counted:
        step.today = today
        del step.after[counts:]
    if not youth_told:
        step.effects = [(e, tag) for e, tag in step.effects
                        if not (isinstance(e, SayToYouth) and e.conversation == conversation
                                and e.key in ("safety_info", "safety_offer"))]


class GroupCrisis:
    def __init__(self, conductor: Conductor) -> None:
        self.conductor = conductor
        self._swept: datetime | None = None

    async def drop_lapsed_offers(self, at: datetime) -> None:
        """Offers nobody took up within OFFER_LASTS (or emptied by an older version) go,
        from the disk too: their keys name youths' rooms, for good otherwise. Looked for at
        most every OFFERS_SWEPT."""
        if self._swept is not None and at - self._swept < OFFERS_SWEPT:
            return
        store = self.conductor.store
        lapsed = [key for key, value in await store.settings(OFFER_PREFIX)
                  if offered_flag(value, at) is None]
        if lapsed:
            step = Change(at, None)
            step.settings.extend((key, None) for key in lapsed)
            step.forget_on_disk = True
            await self.conductor.commit(step)
        self._swept = at

    async def check(self, step: Change, group: g.Group, seat: g.Seat, body: str) -> None:
        """A flag names only the group and the nickname in the staff room; the youth gets
        the offer in their own room, and the group hears nothing of it.

        The team leads are mentioned with the host at once: the host is moderating and
        cannot leave the room for a 1:1, and a group flag has no queue or review whose
        timeout would page them later. A youth whose own chat is open (queued, or with a
        counsellor) has the flag raised there too, where it has both."""
        raised = await self.conductor.crisis.observe(
            crisis_key(group.number, seat.nickname), storable(body), step.at)
        if raised is None:
            return
        policy = self.conductor.policy
        # The youth's own office (their chat's, where the 1:1 they are offered lands): its
        # leads are called too and its emergency lines offered (another region's group,
        # maybe); the group's office's lines for a youth without a conversation.
        home = await self.conductor.store.conversation_by_room(seat.home_room)
        rules = policy.router.offices
        own = None if home is None else rules.former.get(home.office, home.office)
        own = own if own in rules.offices else None
        offices, leads = self.leads(group, own)
        current = self._open_conversation(home)
        params = (("number", group.number), ("nickname", seat.nickname),
                  ("leads", " ".join(leads) or "Team"))
        if current is not None and current.state is ConversationState.ASSIGNED:
            # In counselling now: the flag is their conversation's (its counsellor told, the
            # youth given the numbers in that chat, a lead paged if nobody reviews it), and
            # no 1:1 is offered to a youth who is in one.
            step.add(SayToStaff("group.staff_crisis_alert_counselled",
                                (*params, ("conversation", current.conversation)),
                                mentions=(group.host, *leads),
                                office=self.staff_office(offices, (group.host, *leads))))
            self._flag_conversation(step, current, raised)
            return
        step.add(SayToStaff("group.staff_crisis_alert", params,
                            mentions=(group.host, *leads),
                            office=self.staff_office(offices, (group.host, *leads))))
        if current is not None:
            # Waiting in the queue for a 1:1: its flag puts it first and names it to those
            # who may take it (a lead paged if nobody does), and counts there. The youth's
            # one text is the offer below, with the numbers.
            self._flag_conversation(step, current, raised, youth_told=False)
        else:
            category, severity, source = (raised.category or "suicide", raised.severity,
                                          raised.source)
            step.after.append(lambda m: m.crisis_flagged(category, severity, source))
            step.today += DayCount(crisis_flags=1)
            # The youth's answer in their room opens a chat (or their closed one again)
            # that carries this flag (`offer_key`).
            step.settings.append((offer_key(seat.home_room), offer_value(step.at, raised)))
        # In the language of their own chat: the one group text a youth must understand.
        language = policy.default_language if home is None else spoken(home.language)
        office = own if own is not None else min(group.offices, default="")
        emergency = policy.emergency_for(office).get(language, "")
        step.add(RoomNotice(seat.home_room, "group.crisis_offer", (("emergency", emergency),),
                            youth=seat.youth, language=language),
                 f"group_crisis_offer:{group.number}:{seat.nickname}")

    def _open_conversation(self, home: ConversationRecord | None,
                           ) -> ConversationSnapshot | None:
        """The conversation of the youth's own chat, if it is open: waiting in the queue,
        or with a counsellor now."""
        if home is None or home.state is ConversationState.CLOSED:
            return None
        current = self.conductor.router.conversation(home.conversation)
        if current is None or current.state not in (ConversationState.WAITING,
                                                    ConversationState.ASSIGNED):
            return None
        return current

    def _flag_conversation(self, step: Change, current: ConversationSnapshot,
                           raised: RaisedFlag, *, youth_told: bool = True) -> None:
        flag_conversation(self.conductor, step, current, raised, youth_told=youth_told)

    def leads(self, group: g.Group, youths: str | None = None,
                      ) -> tuple[frozenset[str], tuple[UserID, ...]]:
        """The leads of the group's offices and the installation's own; every office's
        only when the group's offices have none (or it has no office): an alert for leads
        who cannot act on it teaches them to stop reading alerts. When none of the group's
        offices has anybody on duty, the on-call office's leads too, as for a 1:1's crisis
        (`offices.leads_for`): a group flag is never paged again later. With the offices
        whose leads those are, whose staff room the alert goes to. ``youths``: the youth's
        own office, whose leads are called too (the 1:1 offered lands in its queue, which
        the group's office's leads do not see)."""
        policy = self.conductor.policy
        offices = sorted(group.offices)
        if offices and youths is not None and youths not in offices:
            offices.append(youths)
        rules = policy.router.offices
        if offices and rules.enabled and not group.offices & rules.staffed(
                self.conductor.router.snapshot().counsellors):
            offices.append(policy.offices.on_call)
        # A lead with no device left rings no phone (staff_devices.py): not counted.
        reachable = self.conductor.devices.reachable
        own = reachable(tuple(UserID(u) for office in offices
                              for u in policy.offices.desk(office).team_leads))
        leads = (*reachable(policy.team_leads), *own) if own else self.conductor.every_lead()
        return (frozenset(offices) if own else frozenset(),
                tuple(u for u in dict.fromkeys(leads) if u != group.host))

    def staff_office(self, offices: frozenset[str], mentions: tuple[UserID, ...]) -> str:
        """The staff room a notice about a group goes to: its office's, as for a
        conversation's; the main one (read by every office's staff) when it concerns more
        than one office, or none, or names somebody who is not in the office's room (an
        installation's own lead): a crisis alert must reach everyone it calls."""
        if len(offices) != 1:
            return ""
        [office] = offices
        members = self.conductor.policy.offices.desk(office).staff
        return office if all(user in members for user in mentions) else ""
