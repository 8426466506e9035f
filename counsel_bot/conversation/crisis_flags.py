"""Crisis flags of conversations: the detector's recent window per conversation, the staff
alert and the youth's safety information when a flag rises, the team leads paged when nobody
handles it in time, and what each flag was about (for the team-lead view and the count of
reviewed flags).

What a flag was about is kept in memory and in the settings (`crisis:<conversation>`: the
category and when it rose; `crisis_source:<conversation>`: who raised it last, apart, so
an older bot still reads the first); the detector's window is kept in memory only (see the
crisis docs). No I/O: effects and counts
go into the `Change`; the router's part (raising the flag) stays with the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from counsel_bot.conversation.change import Change
from counsel_bot.core.crisis import Assessment, Assessor, ConversationRisk
from counsel_bot.core.crisis.detector import MODEL_REASON, NO_FLAG
from counsel_bot.core.effects import MailToYouth, SayToStaff, SayToYouth
from counsel_bot.core.escalation import ENDED, Due, EscalationTracker
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import Language, spoken
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    ConversationState,
    CrisisStatus,
    RouterSnapshot,
)
from counsel_bot.core.today import DayCount
from counsel_bot.metrics import FLAG_SOURCES
from counsel_bot.web.router_source import CrisisDetail

SEVERITY_TIER = {"low": 1, "medium": 2, "high": 3}
TIER_SEVERITY = {tier: name for name, tier in SEVERITY_TIER.items()}
# A flag whose category the detector did not name is counted as the most serious kind.
UNNAMED_CATEGORY = "suicide"


# Short lines a youth writes after the close are judged together for this long, as the
# detector's window does in an open conversation ("ich will" / "nicht mehr leben"), and
# so many of them; longer ones are judged alone. Kept in memory no longer than that.
AFTER_CLOSE_WINDOW = timedelta(seconds=60)
AFTER_CLOSE_SHORT_CHARS = 40
AFTER_CLOSE_LINES = 5


# Judges texts, possibly elsewhere: the bot passes one that runs the detector in a worker
# thread, so the model's embeddings never hold up the event loop.
Judge = Callable[[Sequence[str]], Awaitable[list[Assessment]]]


def explain(raised: Assessment) -> tuple[str, ...]:
    """Why a flag rose, for the counsellor: rule ids, the model's score and the ids of the
    labelled examples nearest to the message (never any text)."""
    reasons = list(raised.rules)
    if raised.score is not None:
        reasons.append(f"score={raised.score:.2f}")
    if raised.nearest:
        reasons.append("near=" + ",".join(raised.nearest))
    return tuple(reasons)


def setting_key(conversation: ConversationID) -> str:
    return f"crisis:{conversation}"


def source_key(conversation: ConversationID) -> str:
    return f"crisis_source:{conversation}"


# A youth's message whose crisis check is still due (committed after their invitation).
# Only a crash leaves one behind; a bot older than this note would not finish it, so roll
# back only after a clean stop.
DUE_PREFIX = "crisis_due:"
WAIT_PREFIX = "crisis_wait:"


def due_key(conversation: ConversationID) -> str:
    return f"{DUE_PREFIX}{conversation}"


# The first flag's numbers went by mail, to the writer of a mail in the thread of a youth
# back in the chat: the youth in the chat is owed them, when their own words flag. Keyed by
# the conversation; its value the opening they belong to (erased with the conversation).
OWED_PREFIX = "safety_owed:"


def owed_key(conversation: ConversationID) -> str:
    return f"{OWED_PREFIX}{conversation}"


def opening(current: ConversationSnapshot) -> str:
    """What names one opening of a conversation: it is opened again after a close."""
    return current.enqueued_at.isoformat()


def safety_text(explicit: bool) -> str:
    """The youth thanked for telling only when a rule read the danger in their words
    (`CrisisFlags.raised`)."""
    return "safety_info" if explicit else "safety_offer"


@dataclass(frozen=True)
class RaisedFlag:
    """A message raised its conversation's flag to this level."""

    category: str | None
    severity: str
    rules: tuple[str, ...]
    # Raised by a rule at medium or high severity: the youth said it in so many words.
    explicit: bool = False
    # "rule" or "model" (the model alone), for the count of flags and of their reviews.
    source: str = "rule"
    # A rule's reading at the severity the model alone had raised (no stronger).
    outright: bool = False

    @property
    def tier(self) -> int:
        return SEVERITY_TIER[self.severity]


class CrisisFlags:
    def __init__(self, detector: Assessor, escalate_after: timedelta,
                 judge: Judge | None = None) -> None:
        self._detector = detector
        self._judge = judge or self._inline
        self._risk: dict[ConversationID, ConversationRisk] = {}
        self._escalation = EscalationTracker(escalate_after)
        self.details: dict[ConversationID, CrisisDetail] = {}
        # The review last counted for a conversation's flag: a repeated !confirm is one review.
        self._counted: dict[ConversationID, CrisisStatus] = {}
        # The escalation's waits as last written to the store (`_save_waits`).
        self._saved: dict[ConversationID, str] = {}
        # Short lines written after the close, and when (`flags_after_close`).
        self._after_close: dict[ConversationID, list[tuple[datetime, str]]] = {}
        # Short lines held for a move out of a room, and when (`flags_held`).
        self._held_lines: dict[RoomID, list[tuple[datetime, str]]] = {}
        # The office of a conversation that closed while its flag waited for a human: the
        # router forgets it, and its page goes to that office's leads (`page_leads`).
        self.ended_in: dict[ConversationID, str] = {}

    @property
    def escalate_after(self) -> timedelta:
        return self._escalation.timeout

    def restore_waiting(self, snapshot: RouterSnapshot, now: datetime,
                        ended: Sequence[ConversationID] = (),
                        saved: Mapping[ConversationID, str] | None = None) -> None:
        """After a restart, flags nobody handled wait for a human again, from when their wait
        began (``saved``, `wait_key`; also those of conversations that ``ended`` just
        before), and the reviewed ones are not counted again. Also after a failed commit:
        what memory holds of the waits gives way to what the store does."""
        self._escalation = EscalationTracker(self._escalation.timeout)
        self.ended_in = {}
        self._escalation.restore(snapshot, now, ended, saved)
        self._saved = self._escalation.saved()
        for conversation in snapshot.conversations:
            if conversation.crisis in (CrisisStatus.CONFIRMED, CrisisStatus.DISMISSED):
                self._counted[conversation.conversation] = conversation.crisis

    def restore(self, conversation: ConversationID, stored: str | None,
                source: str | None = None) -> None:
        if stored:
            category, raised_at = stored.split("|", 1)
            self.details[conversation] = CrisisDetail(
                category, datetime.fromisoformat(raised_at),
                source if source in FLAG_SOURCES else "unknown")

    async def flags_alone(self, body: str) -> bool:
        """Whether the text alone raises a flag (for words written after a close, which
        belong to no open conversation)."""
        [assessment] = await self._judge([body])
        return assessment.flag

    async def flags_after_close(self, conversation: ConversationID, body: str,
                                at: datetime) -> str | None:
        """The words that raise a flag in a closed conversation: the text alone, or joined
        with the short lines its youth wrote just before (a burst split over several
        messages, each harmless alone); None if nothing flags."""
        flagged, kept = await self._in_burst(self._after_close.pop(conversation, ()), body, at)
        if kept:
            self._after_close[conversation] = kept
        return flagged

    async def flags_held(self, room: RoomID, body: str, at: datetime) -> bool:
        """Whether words held for a move out of ``room`` (no conversation yet) raise a
        flag: alone, or joined with the short lines written there just before, as after a
        close. Judged alone, "ich will" / "nicht mehr leben" alerted nobody for as long as
        the homeserver refused the new room."""
        flagged, kept = await self._in_burst(self._held_lines.pop(room, ()), body, at)
        if kept:
            self._held_lines[room] = kept
        return flagged is not None

    async def _in_burst(self, lines: Sequence[tuple[datetime, str]], body: str, at: datetime,
                        ) -> tuple[str | None, list[tuple[datetime, str]]]:
        """The words that flag (``body``, or joined with the recent short ``lines``), and
        the short lines to keep for the next message (none once flagged)."""
        recent = [(when, text) for when, text in lines
                  if timedelta(0) <= at - when <= AFTER_CLOSE_WINDOW]
        texts = [body, " ".join([*(text for _, text in recent), body])] if recent else [body]
        for text, assessment in zip(texts, await self._judge(texts), strict=True):
            if assessment.flag:
                return text, []
        if len(body) <= AFTER_CLOSE_SHORT_CHARS:
            return None, [*recent, (at, body)][-AFTER_CLOSE_LINES:]
        return None, []

    def forget_old_lines(self, now: datetime) -> None:
        """Lines written after a close leave memory once too old to be joined (each tick)."""
        self._after_close = {
            conversation: lines for conversation, lines in self._after_close.items()
            if timedelta(0) <= now - lines[-1][0] <= AFTER_CLOSE_WINDOW}
        self._held_lines = {
            room: lines for room, lines in self._held_lines.items()
            if timedelta(0) <= now - lines[-1][0] <= AFTER_CLOSE_WINDOW}

    def closed(self, conversation: ConversationID, office: str | None = None) -> None:
        """The conversation's last few messages, kept in memory for the next judgement,
        go: nothing judges them again, and a closed conversation's words should not sit
        in the process until its next restart. Its `office` is kept while its flag waits."""
        self._risk.pop(conversation, None)
        if office is not None and conversation in self._escalation.saved():
            self.ended_in[conversation] = office

    def forget_levels(self) -> None:
        """After a failed commit: a level the failed step raised was never written (the
        router holds no flag for it), and the same words delivered again (a mail after its
        451) would not raise it a second time. Each conversation's level starts again from
        the router's, as after a restart (`observe`'s ``known_tier``)."""
        self._risk.clear()

    def reopened(self, conversation: ConversationID) -> None:
        """The conversation is open again: its level starts afresh, so the words that
        reopened it alert the staff room even at the level it had before the close."""
        self._risk.pop(conversation, None)
        self._after_close.pop(conversation, None)

    async def _inline(self, texts: Sequence[str]) -> list[Assessment]:
        return self._detector.assess_many(texts)

    async def observe(self, conversation: ConversationID, body: str, at: datetime,
                      known_tier: int = 0) -> RaisedFlag | None:
        """The new level, if this message raises the conversation's flag.

        ``known_tier``: the severity the router already holds for it. The detector's level
        lives in memory; after a restart it starts again from this, so a later message at
        the same or a lower level does not alert the staff room a second time."""
        raised, _ = await self.observe_words(conversation, body, at, known_tier)
        return raised

    async def observe_words(self, conversation: ConversationID, body: str, at: datetime,
                            known_tier: int = 0) -> tuple[RaisedFlag | None, Assessment]:
        """`observe`, and what this message's words flag on their own (with the burst they
        end), whether or not they raise the level: the youth who wrote them may be owed
        the numbers a flag raised elsewhere took (`owed_key`)."""
        risk = self._risk.get(conversation)
        if risk is None:
            risk = self._risk[conversation] = ConversationRisk(self._detector)
            if known_tier:
                risk.seed(TIER_SEVERITY[known_tier], self._kept_reasons(conversation))
        before = risk.level
        judged = await self._judge(risk.to_judge(body, at))
        flagged = [a for a in judged if a.flag]
        words = max(flagged, key=lambda a: (a.explicit, SEVERITY_TIER.get(a.severity or "", 0)),
                    default=NO_FLAG)
        raised = risk.record(body, at, judged)
        if not raised.flag or raised.severity is None:
            return None, words
        return RaisedFlag(raised.category, raised.severity, explain(raised), raised.explicit,
                          raised.source, outright=not raised.outranks(before)), words

    def _kept_reasons(self, conversation: ConversationID) -> tuple[str, ...]:
        """Why the flag rose last, as far as a restart keeps it: the model's reason when the
        model alone raised it (`source_key`), so words said outright later still count."""
        detail = self.details.get(conversation)
        if detail is None or detail.source != "model":
            return ()
        return (f"{MODEL_REASON}{detail.category}",)

    def raised(
        self, step: Change, raised: RaisedFlag, current: ConversationSnapshot, *, first: bool,
        emergency: Mapping[Language, str], takers: tuple[UserID, ...] = (),
    ) -> None:
        """Tell staff (its counsellor pinged), and on the first flag give the youth the
        emergency numbers; `current` is the conversation with the flag already raised.

        The youth is thanked for telling only when a rule read the danger in their words
        (an explicit flag). A first flag the model raised alone offers the numbers without
        assuming a disclosure: most such flags in harmless chats are ordinary lines ("hab
        meinem bruder meine alte switch geschenkt"), and a youth thanked for telling
        something they never said feels watched, not heard. One text per conversation, as
        before: a second would interrupt the counsellor who is, or will be, with them. Staff
        are alerted the same way either way.

        The alert rings the youth's counsellor; a youth nobody has yet, ``takers``: those on
        duty who may take them (full, by hand). A notice naming nobody rings no phone (the
        default push rules silence notices), and a lead is paged only minutes later."""
        conversation, counsellor = current.conversation, current.assigned_to
        waited = max(0, int((step.at - current.enqueued_at).total_seconds() // 60))
        step.add(SayToStaff(
            "staff_crisis_alert",
            (("conversation", conversation), ("category", raised.category or "-"),
             ("severity", raised.severity), ("waiting", waited),
             ("assigned", counsellor or "-"), ("rules", " ".join(raised.rules))),
            mentions=(counsellor,) if counsellor else takers,
        ))
        self._counted.pop(conversation, None)  # a new raise is a new thing to review
        category, severity, source = (raised.category or UNNAMED_CATEGORY, raised.severity,
                                      raised.source)
        step.after.append(lambda m: m.crisis_flagged(category, severity, source))
        step.today += DayCount(crisis_flags=1)
        detail = self.details.get(conversation)
        if detail is None:
            detail = self.details[conversation] = CrisisDetail(category, step.at)
            step.settings.append((setting_key(conversation),
                                  f"{category}|{step.at.isoformat()}"))
        if detail.source != source:
            # A review counts for the raise the counsellor last saw: a model's flag dismissed
            # and a rule's flag raised later is the rule's to confirm.
            self.details[conversation] = replace(detail, source=source)
            step.settings.append((source_key(conversation), source))
        if first:
            language = spoken(current.language)
            text = safety_text(raised.explicit)
            # One text per opening of the conversation: a conversation opened again by crisis
            # words after its close gets the numbers again. Its opening time is in the
            # router's snapshot, so a check finished after a crash has the same key.
            tag = f"safety:{conversation}:{opening(current)}"
            params = (("emergency", emergency[language]),)
            # A mail youth is not in the conversation's Matrix room: the numbers go by mail.
            step.add(MailToYouth(conversation, text, params) if current.channel is Channel.MAIL
                     else SayToYouth(conversation, text, params), tag)
        self._escalation.flagged(conversation, step.at,
                                 assigned=current.state is ConversationState.ASSIGNED)
        self._save_waits(step)

    def taken(self, step: Change, current: ConversationSnapshot | None, assignment: int) -> None:
        """A conversation with a flag still asking for a human (`current`, just assigned) is
        given to a counsellor: its alert may have named nobody (it rose in the queue), and
        this assignment ends the wait that would page a lead (escalation.py), so the
        counsellor now responsible is named in an alert of their own, once per assignment."""
        if current is None or current.assigned_to is None \
                or current.crisis not in (CrisisStatus.RAISED, CrisisStatus.CONFIRMED):
            return
        conversation, counsellor = current.conversation, current.assigned_to
        detail = self.details.get(conversation)
        waited = max(0, int((step.at - current.enqueued_at).total_seconds() // 60))
        step.add(SayToStaff(
            "staff_crisis_alert",
            (("conversation", conversation),
             ("category", detail.category if detail else UNNAMED_CATEGORY),
             ("severity", TIER_SEVERITY.get(current.severity, "high")), ("waiting", waited),
             ("assigned", counsellor), ("rules", "-")),
            mentions=(counsellor,),
        ), f"crisis_taken:{conversation}:{assignment}")

    def reviewed(
        self, step: Change, event: ev.StaffEvent,
        conversation_of: Callable[[ConversationID], ConversationSnapshot | None],
    ) -> None:
        """Confirmed and dismissed flags are counted (for the false-flag rate), by category
        and by who raised the flag last; `conversation_of` is the router's view after the
        event."""
        if not isinstance(event, ev.CrisisConfirmed | ev.CrisisDismissed):
            return
        current = conversation_of(event.conversation)
        wanted = (CrisisStatus.CONFIRMED if isinstance(event, ev.CrisisConfirmed)
                  else CrisisStatus.DISMISSED)
        if current is None or current.crisis is not wanted:
            return  # refused
        if self._counted.get(event.conversation) is wanted:
            return  # said again
        self._counted[event.conversation] = wanted
        detail = self.details.get(event.conversation)
        category = detail.category if detail else UNNAMED_CATEGORY
        source = detail.source if detail else "unknown"
        outcome = wanted.value
        step.after.append(lambda m: m.crisis_reviewed(category, outcome, source))

    def page_leads(
        self, step: Change, snapshot: RouterSnapshot, version: int,
        leads_for: Callable[[ConversationID], tuple[str, tuple[UserID, ...]]],
    ) -> None:
        """Crises nobody handled in time page the team leads `leads_for` names, and in the
        staff room it names ("" = the conversation's office's, transition.py), each wait
        once. See `EscalationTracker` for what a wait is."""
        self._escalation.update(snapshot, step.at)
        waiting = self._escalation.saved().keys()
        self.ended_in = {c: office for c, office in self.ended_in.items() if c in waiting}
        for due in self._escalation.due(step.at):
            conversation = due.conversation
            office, leads = leads_for(conversation)
            step.after.append(lambda m: m.escalated())
            # Remembered for a restart, which must not page about it again (`paged_key`).
            step.settings.append((paged_key(conversation), "1"))
            step.add(SayToStaff(
                _page_key(due),
                (("conversation", conversation),
                 ("minutes", int(due.waited.total_seconds() // 60)),
                 ("leads", " ".join(leads) or "Team")),
                mentions=leads, office=office,
            ), f"page:{conversation}:{version}")
        self._save_waits(step)

    def _save_waits(self, step: Change) -> None:
        """The escalation's waits that began, paged or ended in this step, kept in its
        commit: a restart goes on with them (`restore_waiting`)."""
        waits = self._escalation.saved()
        step.settings.extend((wait_key(cid), value) for cid, value in waits.items()
                             if self._saved.get(cid) != value)
        step.settings.extend((wait_key(cid), ENDED) for cid in self._saved.keys() - waits.keys())
        # Compared with what the store holds: a step that is not written writes it next time.
        step.committed.append(lambda: setattr(self, "_saved", waits))

    def forget(self, step: Change, conversation: ConversationID) -> None:
        """An erased conversation leaves nothing behind here either."""
        self._risk.pop(conversation, None)
        self._after_close.pop(conversation, None)
        self._counted.pop(conversation, None)
        self.ended_in.pop(conversation, None)
        self._escalation.forget(conversation)
        self._save_waits(step)
        if self.details.pop(conversation, None) is not None:
            step.settings.append((setting_key(conversation), ""))
            step.settings.append((source_key(conversation), ""))


def wait_key(conversation: ConversationID) -> str:
    """A setting: the conversation's crisis waits for a human, since when (erased with it)."""
    return f"{WAIT_PREFIX}{conversation}"


def paged_key(conversation: ConversationID) -> str:
    """A setting: a lead was paged about this conversation (erased with it)."""
    return f"crisis_paged:{conversation}"


def _page_key(due: Due) -> str:
    if due.closed:
        return "staff_lead_page_closed"
    return "staff_lead_page_waiting" if due.reviewed else "staff_lead_page"
