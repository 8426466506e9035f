"""The chat opens, and nobody on duty can take a youth who waited from before it opened.

A youth who wrote at night read when the chat opens. If nobody came on duty by then, nothing
more was said: they waited on through the opening day on that promise, unknown to anyone
awake. At the first tick of the opening each such youth of the chat hears that the chat is
open but nobody is on duty yet, and where help is meanwhile, and the conversation's leads
are called (`Conductor.leads_to_call`), as for a youth handed back to nobody
(`left_for_nobody`). Once per opening: the outbox keys name it, and a tick later in the
same opening passes it by. A youth who came after the opening read "nobody is free" in the
welcome and is not told again; a bot that was down across the opening tells at its first
tick. An office not yet chosen is left to its question (`offices.unanswered`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import offices
from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToStaff, SayToYouth
from counsel_bot.core.messages import spoken
from counsel_bot.core.routing import Channel
from counsel_bot.core.routing.offices import UNDECIDED

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


def tell(c: Conductor, step: Change, since: datetime | None) -> None:
    """``since``: the last tick (None after a start)."""
    rules, counsellors = c.policy.router.offices, c.router.snapshot().counsellors
    opening: dict[str, datetime | None] = {}  # per office: the opening to tell, if any
    for conversation in c.router.queue():
        current = c.router.conversation(conversation)
        if current is None or current.channel is not Channel.CHAT \
                or current.office == UNDECIDED:
            continue
        if current.office not in opening:
            opening[current.office] = _just_opened(c, current.office, step.at, since)
        opened = opening[current.office]
        if opened is None or current.waiting_since >= opened \
                or rules.anyone_takes(current, counsellors):
            continue
        tag = f"{conversation}@{opened:%Y%m%d%H%M}"
        emergency = c.policy.emergency_for(current.office)[spoken(current.language)]
        step.add(SayToYouth(conversation, "opened_nobody_on_duty", (("emergency", emergency),)),
                 f"opened-nobody:{tag}")
        office, leads = c.leads_to_call(conversation)
        step.add(SayToStaff("staff_opened_nobody_on_duty",
                            (("conversation", conversation), ("leads", " ".join(leads) or "Team")),
                            mentions=leads, office=office),
                 f"opened-nobody-staff:{tag}")


def _just_opened(c: Conductor, office: str, now: datetime,
                 since: datetime | None) -> datetime | None:
    """When ``office``'s chat opened, if it did after the last tick ``since`` (or the bot
    just started); None otherwise."""
    opened = offices.hours_of(c.policy.offices, office, c.policy.hours).opened_at(now)
    if opened is None or (since is not None and since >= opened):
        return None
    return opened
