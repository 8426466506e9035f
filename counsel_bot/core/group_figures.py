"""The groups counted for the team-lead view and the metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from counsel_bot.core.groups import GroupBook, GroupState


@dataclass(frozen=True)
class GroupFigures:
    held: int = 0
    participants: int = 0
    upcoming: int = 0
    open: int = 0


def figures(book: GroupBook, now: datetime) -> GroupFigures:
    held = [g for g in book.groups if g.state in (GroupState.ENDED, GroupState.PURGED)
            and g.named > 0]
    return GroupFigures(
        held=len(held), participants=sum(g.named for g in held),
        upcoming=len([g for g in book.groups if g.state is GroupState.ANNOUNCED
                      and g.start > now]),
        open=len([g for g in book.groups if g.state is GroupState.OPEN]),
    )
