"""A message somebody reported with their app's "Report" button.

Element and FluffyChat send a report (the event and a reason the user typed) to the
homeserver, which only keeps it. In a counselling service the one who reports is mostly a
youth ("er droht mir", "der schickt mir nacktbilder"): the reason is passed on to the staff
room of the room's office, named by where it was reported (a chat's conversation, a group or
forum room, another room), with a link to the event for staff who are in that room. Crisis
words in the reason call the leads as a crisis flag does. The reporter is not named: staff
see youths by nickname only. The homeserver's copy is deleted afterwards
(`runtime/reports.py`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import offices
from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.incoming_text import storable
from counsel_bot.store import ConversationRecord

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

log = logging.getLogger(__name__)

# A reason is a line or two; Synapse takes up to 1,000 characters of it.
MAX_REASON = 1000


async def received(c: Conductor, report_id: int, room_id: RoomID, event_id: EventID,
                   reason: str, at: datetime, *, received_ts: int = 0) -> None:
    # The report's repeat guard; it names nothing. Its number alone is no guard: Synapse
    # gives a number out again after a restart once the reports holding it are deleted.
    marker = EventID(f"report-{report_id}-{received_ts}")
    if await c.store.is_processed(marker):
        return
    step = Change(at, marker)
    reason = storable(reason)[:MAX_REASON].strip()
    record = await c.store.conversation_by_room(room_id)
    if record is None:
        # A room the youth was moved out of, or a second chat: their words there count in
        # the open conversation, and so does what they report there. Else the reason, a
        # youth's words, went unnamed to the main staff room every office reads.
        record = await c.store.conversation_by_room(await c.counted_room(room_id))
    conversation = None if record is None else record.conversation
    flagged = bool(reason) and await _flags(c, reason)
    place = None if record is not None else _place(c, room_id)
    if place is None:
        where, office = conversation or "–", _office(c, record)
        mentions = _leads(c, record) if flagged else ()
    else:
        where, owners = place
        office, mentions = _owners_room(c, owners, flagged)
    step.add(SayToStaff("staff_report_crisis" if flagged else "staff_report", (
        ("where", where), ("reason", reason or "–"),
        ("link", f"https://matrix.to/#/{room_id}/{event_id}")),
        mentions=mentions, office=office))
    await c.commit(step)


async def _flags(c: Conductor, reason: str) -> bool:
    """Whether the reason holds crisis words. A check that fails (a model that breaks on
    this text breaks on it every time) counts as a flag: the report, read oldest first,
    would otherwise hold back every later one, and its words may be a crisis."""
    try:
        return await c.crisis.flags_alone(reason)
    except Exception as exc:
        # The kind only: an error's text might quote the reason.
        log.error("a report's reason could not be checked for crisis words (%s); the "
                  "leads are called", type(exc).__name__)
        return True


def _place(c: Conductor, room_id: RoomID) -> tuple[str, frozenset[str]] | None:
    """A group's or the forum's room, named in the staff room's language, with the offices
    it belongs to."""
    language = c.policy.default_language
    return next((place for addon in c.addons
                 if (place := addon.place(room_id, language)) is not None), None)


def _owners_room(c: Conductor, owners: frozenset[str],
                 flagged: bool) -> tuple[str, tuple[UserID, ...]]:
    """The staff room of the one office a group belongs to, and its leads when the reason
    holds crisis words; an office without a lead to ring calls every lead, from its own
    room (the main one gets only who is called and for whom: `offices.reaching_everyone`).
    The main room and every lead for a place of several offices or none, as a flag must
    call somebody."""
    if len(owners) == 1 and c.policy.offices.enabled:
        [office] = owners
        leads = c.devices.reachable(
            tuple(UserID(u) for u in c.policy.offices.desk(office).team_leads))
        if not flagged:
            return office, ()
        return office, leads or c.every_lead()
    return "", c.every_lead() if flagged else ()


def _office(c: Conductor, record: ConversationRecord | None) -> str:
    """The conversation's office, open or closed: a closed one is no longer the router's,
    and the main staff room is read by every office's staff."""
    if record is None or not c.policy.offices.enabled:
        return ""
    rules = c.policy.router.offices
    if c.router.conversation(record.conversation) is None:
        return rules.home(record.office)
    return offices.staff_office(record.conversation, c.router, rules, c.policy.offices)


def _leads(c: Conductor, record: ConversationRecord | None) -> tuple[UserID, ...]:
    if record is not None and c.policy.offices.enabled:
        _office_of, leads = offices.leads_for(record.conversation, c.router,
                                              c.policy.router.offices, c.policy.offices,
                                              ended_in=record.office)
        leads = c.devices.reachable(leads)  # one with no device left rings no phone
        if leads:
            return leads
    return c.every_lead()
