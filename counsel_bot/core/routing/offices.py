"""Which counsellor may see and get which conversation when several offices share the bot.

Rules (the property tests in tests/offices/ check them):

1. Without offices (`OfficeRules.enabled` false) every rule here allows everything: one
   office, as before.
2. A conversation belongs to one office. A conversation stored before offices existed ("")
   or whose office was removed from the configuration belongs to the fallback office; one
   of an office renamed or merged into another belongs to the office that names its old id
   (`former_ids`, `home`).
3. A conversation whose office is still `UNDECIDED` (the youth has not said what it is
   about yet) counts as the fallback office's, but is assigned to nobody automatically
   unless it is a crisis, which cannot wait for the answer; its staff may take it by hand.
   Once someone has it (taken by hand, or a crisis given to the on-call office), it is
   that person's office's (`settled_for`): the youth talks to them now, and what the youth
   writes next is not an answer to the office question.
4. A counsellor sees, takes, closes and transfers only conversations of their own offices.
5. Crisis escalation is global: a flagged conversation whose office has nobody on duty is
   also seen and assigned by the on-call office's staff.
6. A counsellor always sees the conversations assigned to them: an on-call counsellor
   keeps a crisis after its own office is staffed again, and one whom the configuration
   moved to another office can still end what they have.
7. A team lead leads only the offices they are a lead of (`leads_on`): in an office where
   they only counsel, they are a counsellor like the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from counsel_bot.core.ids import UserID
from counsel_bot.core.routing.model import ConversationSnapshot, CounsellorSnapshot, Priority

# The office of a conversation whose youth has not yet said what it is about.
UNDECIDED = "?"


@dataclass(frozen=True)
class OfficeRules:
    offices: tuple[str, ...] = ()
    # Staff -> the offices they work for (from the configuration, never from the store).
    staff: Mapping[UserID, frozenset[str]] = field(default_factory=dict, hash=False)
    fallback: str = ""
    on_call: str = ""
    # Team leads -> the offices they lead (a subset of `staff`'s; from the configuration).
    leads: Mapping[UserID, frozenset[str]] = field(default_factory=dict, hash=False)
    # An office's former id (renamed, merged) -> the office it is now.
    former: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def enabled(self) -> bool:
        return bool(self.offices)

    def office_of(self, conv: ConversationSnapshot) -> str:
        """The office a conversation is with now ("" without offices)."""
        return self.home(conv.office) if self.enabled else ""

    def home(self, office: str) -> str:
        """The configured office that ``office`` (as stored with a conversation, a closed
        one, an appointment) is now: itself, the one that names it among its former ids,
        else the fallback office (rule 2). `UNDECIDED` stays undecided."""
        if office == UNDECIDED or office in self.offices:
            return office
        return self.former.get(office, self.fallback)

    def offices_of(self, user: UserID) -> frozenset[str]:
        return self.staff.get(user, frozenset())

    def settled_for(self, user: UserID) -> str:
        """The office an undecided conversation takes when `user` gets it: the fallback
        office if they work for it, else the on-call office (a crisis), else one of theirs."""
        mine = self.offices_of(user)
        for office in (self.fallback, self.on_call, *sorted(mine)):
            if office in mine:
                return office
        return self.fallback

    def staffed(self, counsellors: Iterable[CounsellorSnapshot]) -> frozenset[str]:
        """Offices with somebody on duty who takes youths: `!capacity 0` says "no new
        ones", so an office whose only counsellor on duty says it has nobody to take its
        crisis, and the on-call office's staff see it (rule 5)."""
        if not self.enabled:
            return frozenset()
        return frozenset(o for c in counsellors if c.on_duty and c.capacity > 0
                         for o in self.offices_of(c.user))

    def _escalated(self, conv: ConversationSnapshot, staffed: frozenset[str]) -> bool:
        office = self.office_of(conv)
        if office == UNDECIDED:
            office = self.fallback
        return conv.priority is Priority.CRISIS and office not in staffed

    def may_assign(
        self, user: UserID, conv: ConversationSnapshot, staffed: frozenset[str]
    ) -> bool:
        """Whether the auto-assigner may give `conv` to `user` (rules 3 to 5)."""
        if not self.enabled:
            return True
        mine = self.offices_of(user)
        office = self.office_of(conv)
        if office == UNDECIDED and conv.priority is Priority.CRISIS:
            office = self.fallback
        if office != UNDECIDED and office in mine:
            return True
        return self._escalated(conv, staffed) and self.on_call in mine

    def sees(self, user: UserID, conv: ConversationSnapshot, staffed: frozenset[str]) -> bool:
        """Whether `user` may see or act on `conv` (queue, take, close, transfer)."""
        return not self.enabled or conv.assigned_to == user or self._reaches(
            self.offices_of(user), conv, staffed)

    def anyone_takes(self, conv: ConversationSnapshot,
                     counsellors: Iterable[CounsellorSnapshot]) -> bool:
        """Whether somebody on duty who takes youths may take `conv` (by hand at once, an
        undecided one by the auto-assigner once it is settled): the one answer the
        counsellor signing off and the youth left waiting are both given (rule 3: the
        fallback office's staff may take an undecided conversation). Not the counsellor
        who handed it back (`returned_by`): the auto-assigner never gives it to them again,
        so a youth only they could take waits for nobody (the one on a night shift alone)."""
        return any(user != conv.returned_by for user in self.who_takes(conv, counsellors))

    def who_takes(self, conv: ConversationSnapshot,
                  counsellors: Iterable[CounsellorSnapshot]) -> tuple[UserID, ...]:
        """Those on duty who take youths and may take `conv` (`anyone_takes`): whom a crisis
        of a youth nobody has yet rings, over their capacity if need be."""
        counsellors = tuple(counsellors)
        staffed = self.staffed(counsellors)
        return tuple(c.user for c in counsellors
                     if c.on_duty and c.capacity > 0 and self.sees(c.user, conv, staffed))

    def leads_on(self, user: UserID, conv: ConversationSnapshot,
                 staffed: frozenset[str]) -> bool:
        """Whether `user` may act on `conv` as its team lead (rule 7); without offices the
        role alone decides."""
        return not self.enabled or self._reaches(self.leads.get(user, frozenset()), conv,
                                                 staffed)

    def _reaches(self, mine: frozenset[str], conv: ConversationSnapshot,
                 staffed: frozenset[str]) -> bool:
        office = self.office_of(conv)
        if office == UNDECIDED:
            office = self.fallback
        if office in mine:
            return True
        return self._escalated(conv, staffed) and self.on_call in mine
