"""Killed in the middle of a lane (issue 20, item 4): mail replies and staff digests that
were performed before the kill are not performed again after the restart.

A SIGKILL leaves exactly what is in the database files at that moment, so the test copies
the files while effects hang in flight and restarts from the copy; the process that
"died" is then discarded. What the worker and the mail channel promise is in the docstrings
of `counsel_bot.channels.outbox_worker` and `counsel_bot.channels.mail.mail_channel`."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.channels.outbox_worker import OutboxWorker
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import Effect, SayToStaff, SendMail, StaffDigest
from counsel_bot.core.ids import ConversationID, EventID, RoomID
from homeserver_bridge.mail import ReplyThread
from tests.counsel_bot.test_mail_secrets import AT, channel_on_disk
from tests.store.conftest import AeadSealer

ALERT = "staff-alert:$x"
LAST_NOTICE = "staff:n3"


class Sender:
    """Records what the mail server accepted; `hang_on` holds a message before it is sent."""

    def __init__(self, accepted: list[str], hang_on: str = "") -> None:
        self.accepted = accepted
        self.hang_on = hang_on
        self.hanging = asyncio.Event()

    async def send(self, message: EmailMessage, *, envelope_sender: str | None = None) -> None:
        if self.hang_on and self.hang_on in message.get_content():
            self.hanging.set()
            await asyncio.Event().wait()  # killed here, before the server accepted it
        self.accepted.append(str(message["Message-ID"]))


def performer(
    conductor: Conductor, mail: MailChannel, staff: list[str], hang_on_notice: asyncio.Event | None,
) -> Callable[[Effect | StaffDigest, str], Awaitable[None]]:
    async def perform(effect: Effect | StaffDigest, key: str) -> None:
        if isinstance(effect, SendMail):
            record = await conductor.store.conversation(effect.conversation)
            assert record is not None
            await mail.send_reply(record, effect.text, key)
        elif isinstance(effect, StaffDigest):
            staff.extend(n.key for n in effect.notices)
        elif isinstance(effect, SayToStaff):
            if key == LAST_NOTICE and hang_on_notice is not None:
                hang_on_notice.set()
                await asyncio.Event().wait()
            staff.append(effect.key)
    return perform


async def _open_mail(conductor: Conductor, mail: MailChannel) -> ConversationID:
    conversation = await mail.mail_opened(RoomID("!mailroom:x"), "mailto:y@example.org", "de",
                                          AT)
    await mail.replies.save_thread(conversation, ReplyThread("<first@example.org>", (), "Hallo"))
    change = Change(AT, EventID("$replies"))
    for n in ("eins", "zwei", "drei"):
        change.add(SendMail(conversation, f"Antwort {n}"), f"mail-reply:${n}")
    for n in ("n1", "n2"):
        change.add(SayToStaff(n), f"staff:{n}")
    change.add(SayToStaff("staff_crisis_alert", (("conversation", conversation),)), ALERT)
    change.add(SayToStaff("n3"), "staff:n3")
    await conductor.commit(change)
    return conversation


def _copy_as_killed(path: Path, to: Path) -> Path:
    to.mkdir()
    for suffix in ("", "-wal"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            shutil.copyfile(source, to / (path.name + suffix))
    return to / path.name


async def _restart(
    killed: Path, sealer: AeadSealer, accepted: list[str], staff: list[str]
) -> None:
    conductor, mail = await channel_on_disk(killed, sealer)
    try:
        mail.sender = Sender(accepted)  # type: ignore[assignment]
        worker = OutboxWorker(performer(conductor, mail, staff, None), conductor.store,
                              FakeClock(AT))
        await asyncio.wait_for(worker.drain(), 10)
        assert await conductor.store.pending_outbox() == []
    finally:
        await conductor.store.close()


async def test_a_kill_mid_lane_repeats_no_mail_and_no_digest(tmp_path: Path) -> None:
    path, sealer = tmp_path / "first" / "counsel.db", AeadSealer()
    path.parent.mkdir()
    conductor, mail = await channel_on_disk(path, sealer)
    accepted: list[str] = []
    staff: list[str] = []
    sender = Sender(accepted, hang_on="Antwort drei")
    mail.sender = sender  # type: ignore[assignment]
    notice = asyncio.Event()
    try:
        await _open_mail(conductor, mail)
        worker = OutboxWorker(performer(conductor, mail, staff, notice), conductor.store,
                              FakeClock(AT))
        await worker.dispatch()
        await asyncio.wait_for(asyncio.gather(sender.hanging.wait(), notice.wait()), 10)
        await asyncio.sleep(0.05)  # nothing else is running: the lanes hang in flight
        # The digest (the new mail's notice, n1, n2) and the urgent alert went out; n3 and
        # reply 3 hang.
        assert len(accepted) == 2
        assert staff == ["staff_new_mail", "n1", "n2", "staff_crisis_alert"]
        killed = _copy_as_killed(path, tmp_path / "killed")
        await worker.cancel()
    finally:
        await conductor.store.close()
    await _restart(killed, sealer, accepted, staff)
    assert len(accepted) == 3, "each reply went out once"
    assert len(set(accepted)) == 3
    assert Counter(staff) == Counter(["staff_new_mail", "n1", "n2", "staff_crisis_alert", "n3"])


class MarkHangs:
    """Wraps a store: marking the given key done never finishes (the kill comes first)."""

    def __init__(self, store: object, key: str, reached: asyncio.Event) -> None:
        self._store = store
        self._key = key
        self._reached = reached
        self.release = asyncio.Event()  # after the "kill": the dead process is let go

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def mark_outbox_done(self, keys: Sequence[str], *, at: datetime,
                               forget_on_disk: bool = False) -> None:
        if self._key in keys:
            self._reached.set()
            await self.release.wait()
        await self._store.mark_outbox_done(  # type: ignore[attr-defined]
            keys, at=at, forget_on_disk=forget_on_disk)


async def test_a_reply_accepted_but_not_marked_done_is_not_sent_again(tmp_path: Path) -> None:
    """The mail server accepted the reply and the channel recorded its Message-ID; the kill
    comes before the done mark. The repeat is recognised by its Message-ID."""
    path, sealer = tmp_path / "first" / "counsel.db", AeadSealer()
    path.parent.mkdir()
    conductor, mail = await channel_on_disk(path, sealer)
    accepted: list[str] = []
    staff: list[str] = []
    mail.sender = Sender(accepted)  # type: ignore[assignment]
    reached = asyncio.Event()
    try:
        await _open_mail(conductor, mail)
        store = MarkHangs(conductor.store, "mail-reply:$eins", reached)
        worker = OutboxWorker(performer(conductor, mail, staff, None), store,  # type: ignore[arg-type]
                              FakeClock(AT))
        await worker.dispatch()
        await asyncio.wait_for(reached.wait(), 10)
        await asyncio.sleep(0.05)
        assert len(accepted) == 1
        killed = _copy_as_killed(path, tmp_path / "killed")
        store.release.set()
        await worker.cancel()
    finally:
        await conductor.store.close()
    await _restart(killed, sealer, accepted, staff)
    assert len(accepted) == 3, "the first reply went out once"
    assert len(set(accepted)) == 3
