"""When a crisis waits too long for a human, page the team lead (pure, time passed in).

A wait for a human begins when a flag is raised, and again whenever a flagged conversation
(raised or confirmed, not dismissed) is back in the queue with nobody assigned: a
counsellor went off duty, handed it back, or it was moved to an office with nobody on duty.
It ends when someone takes the conversation, or dismisses the flag; a flag raised while a
counsellor already had the conversation ends only when that counsellor confirms or
dismisses it. A conversation that closes while a wait runs (the youth wrote "ende" or left
before anyone looked) does not end it: a lead still hears of a flag nobody reviewed (a
confirmed one, which a person knows of, ends). Each wait pages once; a new flag after the
page, or a hand-back to the queue, starts a new wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from counsel_bot.core.ids import ConversationID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CrisisStatus,
    RouterSnapshot,
)

# A saved wait that ended (someone took the conversation or reviewed its flag): a restart
# must not start one for its still raised flag, as for a flag kept by an older version.
ENDED = "-"

# Flags that still ask for a human; a dismissed one does not.
_ACTIVE = (CrisisStatus.RAISED, CrisisStatus.CONFIRMED)


@dataclass
class _Wait:
    since: datetime
    # Flagged while its counsellor had it: only a review ends the wait.
    needs_review: bool
    paged: bool = False
    closed: bool = False  # the conversation ended while the wait ran
    reviewed: bool = False  # last seen confirmed: a person knows of the crisis
    assigned: bool = False  # last seen with a counsellor


@dataclass(frozen=True)
class Due:
    conversation: ConversationID
    waited: timedelta
    closed: bool  # the conversation ended while the wait ran
    reviewed: bool = False  # a confirmed crisis waiting for someone, not an unread flag


@dataclass
class EscalationTracker:
    timeout: timedelta
    _waits: dict[ConversationID, _Wait] = field(default_factory=dict)

    def flagged(self, conversation: ConversationID, at: datetime, *, assigned: bool) -> None:
        wait = self._waits.get(conversation)
        if wait is None or wait.paged:
            # A new flag after a page (a stronger one, say) is news for a lead again.
            self._waits[conversation] = _Wait(at, needs_review=assigned, assigned=assigned)

    def update(self, snapshot: RouterSnapshot, now: datetime) -> None:
        """End the waits a person handled, and start one for each flagged conversation
        back in the queue, by the router's current state."""
        open_by_id = {c.conversation: c for c in snapshot.conversations}
        for conversation, wait in list(self._waits.items()):
            current = open_by_id.get(conversation)
            if current is None:
                if wait.paged or wait.reviewed:
                    del self._waits[conversation]
                else:
                    wait.closed = True
            elif _ended(wait, current):
                del self._waits[conversation]
            else:
                self._follow(conversation, wait, current, now)
        for snap in snapshot.conversations:
            if (snap.crisis in _ACTIVE and snap.state is not ConversationState.ASSIGNED
                    and snap.conversation not in self._waits):
                self._waits[snap.conversation] = _Wait(
                    now, needs_review=False, reviewed=snap.crisis is CrisisStatus.CONFIRMED)

    def _follow(self, conversation: ConversationID, wait: _Wait,
                current: ConversationSnapshot, now: datetime) -> None:
        """An open conversation's wait goes on; handed back to the queue, it is nobody's
        to review any more, and after a page it is a new wait (a lead hears of it again)."""
        wait.closed = False  # open again (crisis words after its close)
        wait.reviewed = current.crisis is CrisisStatus.CONFIRMED
        assigned = current.state is ConversationState.ASSIGNED
        if wait.assigned and not assigned:
            if wait.paged:
                self._waits[conversation] = _Wait(now, needs_review=False,
                                                  reviewed=wait.reviewed)
                return
            wait.needs_review = False
        wait.assigned = assigned

    def due(self, now: datetime) -> list[Due]:
        """Waits longer than the timeout, each returned once."""
        for wait in self._waits.values():
            if wait.since > now:
                # The clock was set back: the wait counts from now, not from a time the clock
                # reaches again only after the jump (an hour's step, an hour's later page).
                wait.since = now
        late = [Due(cid, now - w.since, w.closed, w.reviewed) for cid, w in self._waits.items()
                if not w.paged and now - w.since >= self.timeout]
        for item in late:
            self._waits[item.conversation].paged = True
        return late

    def forget(self, conversation: ConversationID) -> None:
        """The youth had it erased: nothing pages about it any more (its alert went out
        when it was flagged; an alert still unsent goes with the rest of it)."""
        self._waits.pop(conversation, None)

    def saved(self) -> dict[ConversationID, str]:
        """Each wait as a short text to keep over a restart (`restore`): when it began,
        whether it paged, whether only a review ends it. No words, no names."""
        return {cid: f"{w.since.isoformat()}|{int(w.paged)}|{int(w.needs_review)}"
                for cid, w in self._waits.items()}

    def restore(self, snapshot: RouterSnapshot, now: datetime,
                ended: Sequence[ConversationID] = (),
                saved: Mapping[ConversationID, str] | None = None) -> None:
        """After a restart: each ``saved`` wait goes on from when it began, so a page that
        fell due while the bot was down goes out at once and one that went out is not sent
        again. A raised flag with no saved wait at all (kept by an older version) waits from
        now; one whose wait ended (`ENDED`) does not wait again.
        ``ended``: conversations that closed shortly before with an unreviewed flag and no
        page (see `update`)."""
        saved = saved or {}
        for conversation in snapshot.conversations:
            cid = conversation.conversation
            wait = _parse(saved.get(cid))
            if wait is not None:
                wait.assigned = conversation.state is ConversationState.ASSIGNED
                wait.reviewed = conversation.crisis is CrisisStatus.CONFIRMED
                self._waits[cid] = wait
            elif cid not in saved and conversation.crisis is CrisisStatus.RAISED:
                self.flagged(cid, now, assigned=conversation.state is ConversationState.ASSIGNED)
        for conversation_id in ended:
            if conversation_id in saved and _parse(saved[conversation_id]) is None:
                continue  # its wait ended before the close
            wait = _parse(saved.get(conversation_id)) or _Wait(now, needs_review=False)
            wait.closed = True
            self._waits.setdefault(conversation_id, wait)


def _parse(saved: str | None) -> _Wait | None:
    """A saved wait; None for none or one that ended (`ENDED`; "" from a development
    version)."""
    if not saved or saved == ENDED:
        return None
    since, paged, needs_review = saved.split("|")
    return _Wait(datetime.fromisoformat(since), needs_review=needs_review == "1",
                 paged=paged == "1")


def _ended(wait: _Wait, current: ConversationSnapshot) -> bool:
    if current.crisis is CrisisStatus.DISMISSED:
        return True
    if wait.needs_review:
        return current.crisis is CrisisStatus.CONFIRMED
    return current.state is ConversationState.ASSIGNED
