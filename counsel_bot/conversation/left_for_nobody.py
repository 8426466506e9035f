"""Youths handed back to a queue where nobody on duty can take them: the team leads are
called for each, as for a hand-back by the response timers (`timers.requeued_nobody`).

``!duty off`` and ``!transfer … queue`` tell the counsellor who chose it (the router's
replies); a hand-back nobody chose tells no one: a counsellor the bot signed off (no device
left, an unverified session) is gone, and one who left the youth's room (their app's
"leave") is never given the youth again by the router. With nobody else on duty (the last
one on a night shift) the youth waited till morning unknown to anyone awake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import UserID
from counsel_bot.core.routing import Unassign

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


def call_leads(c: Conductor, step: Change, counsellor: UserID, key: str, tag: str, *,
               still_here: bool) -> None:
    """For each youth ``counsellor`` was just unassigned from in ``step`` (its `Unassign`
    effects) whom nobody else on duty can take, a notice ``key`` calling the conversation's
    leads (`Conductor.leads_to_call`), and ``counsellor`` too when ``still_here`` (on duty:
    they may take it back)."""
    rules, counsellors = c.policy.router.offices, c.router.snapshot().counsellors
    handed_back = sorted({e.conversation for e, _ in step.effects
                          if isinstance(e, Unassign) and e.counsellor == counsellor})
    for conversation in handed_back:
        current = c.router.conversation(conversation)
        if current is None or current.assigned_to is not None \
                or rules.anyone_takes(current, counsellors):
            continue
        office, leads = c.leads_to_call(conversation)
        called = tuple(dict.fromkeys((counsellor, *leads) if still_here else leads))
        step.add(SayToStaff(key, (("conversation", conversation), ("counsellor", counsellor),
                                  ("leads", " ".join(leads) or "Team")),
                            mentions=called, office=office),
                 f"{tag}:nobody:{conversation}")
