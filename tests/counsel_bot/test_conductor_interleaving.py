"""The conductor is driven by several asyncio tasks at once: the sync loop, the SMTP
server's deliveries, the outbox worker's callbacks (set-aside notices, a replaced staff
room), retention. Every commit writes the router's whole snapshot, so a step whose router
change is made but not yet committed (a youth's first message while its words are judged in
a worker thread) must not be written by another task's commit, nor wiped from memory by
another task's failed commit (which reloads the router from the store).

The interleaving is forced with an event inside the judge, not with sleeps: the youth's
crisis check waits there until the test lets it go. Memory store, no server."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Change, Conductor
from counsel_bot.core.crisis import Assessment, CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, StoreError, Transition
from homeserver_bridge.mail import InboundMail
from tests.store.conftest import AeadSealer
from tests.support.mail_office import bare_mail_channel

AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
YOUTH_ROOM = RoomID("!youth:x")
YOUTH = UserID("@sunflower:x")
YOUTH_WORDS = "hallo, ich brauche hilfe mit meinen eltern"
ANNA = UserID("@anna:x")
STAFF_ROOM = RoomID("!staff:x")
MAIL = InboundMail(
    message_id="<first@example.org>", in_reply_to=None, references=(),
    subject="Hilfe", from_address="moon@example.org",
    reply_address="moon@example.org", text="Ich weiss nicht weiter.", attachments=(),
)


class GatedJudge:
    """Judges like the bot's worker thread, but holds the ``held`` words until `release`."""

    def __init__(self, detector: CrisisDetector, held: str) -> None:
        self.detector = detector
        self.held = held
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, texts: Sequence[str]) -> list[Assessment]:
        if any(self.held in t for t in texts):
            self.entered.set()
            await self.release.wait()
        return self.detector.assess_many(texts)


class FailingOnce(MemoryStore):
    """A store whose next commit with a new conversation fails (a full disk, a lost
    database connection): the committing task reloads the router from the store."""

    fail_new = False

    async def commit_transition(self, transition: Transition) -> bool:
        if self.fail_new and transition.new_conversations:
            self.fail_new = False
            raise StoreError("the disk is full")
        return await super().commit_transition(transition)


async def _conductor(store: MemoryStore, held: str = YOUTH_WORDS
                     ) -> tuple[Conductor, GatedJudge, MailChannel]:
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    judge = GatedJudge(detector, held)
    conductor = await Conductor.open(store, detector, policy_from(Settings()), AT, judge=judge)
    return conductor, judge, bare_mail_channel(conductor, [], AT)


async def _let_others_run(task: asyncio.Task[Any]) -> None:
    """Yield until ``task`` is done or has nothing left to do but wait (no timers)."""
    for _ in range(200):
        if task.done():
            return
        await asyncio.sleep(0)


async def _unrecorded(store: MemoryStore) -> list[str]:
    """Conversations the stored router holds that the store has no record of."""
    snapshot = await store.load_router_snapshot()
    return [c.conversation for c in snapshot.conversations
            if await store.conversation(c.conversation) is None]


async def test_a_mail_during_a_youths_first_crisis_check_neither_fails_nor_writes_it() -> None:
    """The mail's commit wrote the router with the youth's conversation, which the youth's
    step had not stored yet: the store refused it (the mail bounced with 451), reloading the
    router under the youth's step, whose own commit then failed too: a bug that stops the
    bot. A store without that check would have queued a conversation with no room."""
    store = MemoryStore(AeadSealer())
    conductor, judge, mail = await _conductor(store)
    ghosts: list[list[str]] = []
    real = store.commit_transition

    async def watched(transition: Transition) -> bool:
        done = await real(transition)
        ghosts.append(await _unrecorded(store))  # what a crash right now would leave
        return done

    store.commit_transition = watched  # type: ignore[method-assign]
    youth = asyncio.create_task(conductor.youth_wrote(
        YOUTH_ROOM, YOUTH, None, EventID("$first"), YOUTH_WORDS, AT))
    await judge.entered.wait()
    delivery = asyncio.create_task(mail.deliver(MAIL))
    await _let_others_run(delivery)
    judge.release.set()
    results = await asyncio.gather(youth, delivery, return_exceptions=True)

    assert results == [None, None], results
    assert not any(ghosts), f"a commit stored conversations with no record: {ghosts}"
    assert len(conductor.router.snapshot().conversations) == 2


async def test_a_failed_mail_commit_does_not_wipe_a_youths_ending_in_flight() -> None:
    """The youth wrote "ende"; while its words were judged, a mail's commit failed and
    reloaded the router from the store, reopening the conversation in memory; the youth's
    step then stored "it has ended" for the youth with the conversation still queued."""
    store = FailingOnce(AeadSealer())
    conductor, judge, mail = await _conductor(store, held="ende")
    await conductor.youth_wrote(YOUTH_ROOM, YOUTH, None, EventID("$first"), YOUTH_WORDS, AT)
    record = await store.conversation_by_room(YOUTH_ROOM)
    assert record is not None
    youth = asyncio.create_task(conductor.youth_wrote(
        YOUTH_ROOM, YOUTH, None, EventID("$end"), "ende", AT))
    await judge.entered.wait()
    store.fail_new = True  # the mail's new conversation: the disk is full just then
    delivery = asyncio.create_task(mail.deliver(MAIL))
    await _let_others_run(delivery)
    judge.release.set()
    results = await asyncio.gather(youth, delivery, return_exceptions=True)

    assert results[0] is None, results
    stored = {c.conversation for c in (await store.load_router_snapshot()).conversations}
    why = ("the youth was told the chat has ended, yet it is still queued: another task's "
           "failed commit reloaded the router under the youth's step")
    assert conductor.router.conversation(record.conversation) is None, why
    assert record.conversation not in stored, why


async def test_an_outbox_callback_committing_during_a_youths_crisis_check_waits_for_it(
) -> None:
    """The outbox worker commits too (a replaced staff room's first notice, an effect set
    aside): during a youth's first crisis check its commit was refused the same way, and a
    crash in the worker stops the bot."""
    store = MemoryStore(AeadSealer())
    conductor, judge, _mail = await _conductor(store)
    youth = asyncio.create_task(conductor.youth_wrote(
        YOUTH_ROOM, YOUTH, None, EventID("$first"), YOUTH_WORDS, AT))
    await judge.entered.wait()
    notice = Change(AT, None)
    notice.add(SayToStaff("staff_room_replaced"), "staff-room-replaced:!new:x")
    announce = asyncio.create_task(conductor.commit(notice))
    set_aside = asyncio.create_task(conductor.effect_set_aside("SayToYouth", None, AT))
    await _let_others_run(announce)
    judge.release.set()
    results = await asyncio.gather(youth, announce, set_aside, return_exceptions=True)

    assert results == [None, True, None], results
    assert await _unrecorded(store) == []


async def test_a_close_while_a_mails_crisis_words_are_judged_does_not_lose_the_alert() -> None:
    """The mail found its conversation open; while its words were judged, the counsellor's
    ``!close`` (the sync loop) closed it, and the mail's check then saw no conversation and
    raised nothing: crisis words by mail with no alert. The close now waits for the mail's
    step, whose alert goes out; the close follows."""
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    judge = GatedJudge(detector, "umbringen")
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA),))))
    conductor = await Conductor.open(store, detector, policy, AT, judge=judge)
    await conductor.sync_roster(AT)
    await conductor.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", AT)
    mail = bare_mail_channel(conductor, [], AT)
    await mail.deliver(MAIL)
    [opened] = conductor.router.snapshot().conversations
    assert opened.assigned_to == ANNA
    again = replace(MAIL, message_id="<second@example.org>", in_reply_to=MAIL.message_id,
                    references=(MAIL.message_id,), text="Ich will mich umbringen.")
    delivery = asyncio.create_task(mail.deliver(again))
    await judge.entered.wait()
    close = asyncio.create_task(conductor.staff_wrote(
        STAFF_ROOM, ANNA, EventID("$close"), f"!close {opened.conversation}", AT))
    await _let_others_run(close)
    judge.release.set()
    await asyncio.gather(delivery, close)

    alerts = [e for e in map(decode_effect, [x.payload for x in await store.pending_outbox()])
              if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]
    assert len(alerts) == 1, "crisis words by mail raised no alert: closed while judged"
    assert conductor.router.conversation(opened.conversation) is None  # the close went on
