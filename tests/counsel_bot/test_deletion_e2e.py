"""Issue 8, item 2 on real Synapse: a youth ends and deletes their conversation. With admin
access the room is purged, the bot's records erased and the anonymous account deactivated;
without it the youth is told honestly that retention deletes it, and it is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import ConversationState
from homeserver_bridge.errors import AdminApiError
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import (
    BotProcess,
    Counselling,
    NioYouth,
    counselling,
    until,
)
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration


async def assigned_conversation(
    process: BotProcess, counsellor: NioYouth, youth: NioYouth
) -> str:
    """A youth's conversation, taken by the counsellor; returns the room id."""
    staff_room = await counsellor.accept_invite()
    await counsellor.send(staff_room, "!duty on")
    room = await youth.open_chat(process.user_id)
    await youth.wait_for(room, process.user_id, "anonym")
    await youth.send(room, "Hallo, mir geht es gerade nicht gut.")
    await until(lambda: room in counsellor.invited_to(), what="the assignment")
    await counsellor.accept_invite()
    await youth.wait_for(room, process.user_id, "ist jetzt für dich da")
    return room


async def conversation_with_admin(synapse: SynapseHandle, c: Counselling) -> tuple[str, Any]:
    """The youth's conversation taken by the counsellor, the bot wired with admin access
    (as the runner wires it from the admin token file): its room and record."""
    c.bot.executor.admin = synapse.admin
    room = await assigned_conversation(c.process, c.counsellor, c.youth)
    record = await c.bot.store.conversation_by_room(RoomID(room))
    assert record is not None
    return room, record


async def youth_deletes(c: Counselling, room: str, record: Any) -> None:
    """"löschen", confirmed, until the bot's records of the conversation are erased."""
    await c.youth.send(room, "löschen")
    await c.youth.wait_for(room, c.process.user_id, "„ja löschen“")
    await c.youth.send(room, "ja löschen")

    async def erased() -> bool:
        return await c.bot.store.conversation(record.conversation) is None
    await until(erased, within=60, what="the bot's records to be erased")


async def test_end_and_delete_purges_room_erases_records_and_deactivates_account(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, youth, youth_user = c.counsellor, c.youth, c.youth_user
        process, bot = c.process, c.bot
        bot.executor.admin = synapse.admin  # what runner wires from the admin token file
        room = await assigned_conversation(process, counsellor, youth)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        conversation = record.conversation

        # A confirmation before asking does nothing but explain.
        await youth.send(room, "ja löschen")
        await youth.wait_for(room, process.user_id, "schreib zuerst „löschen“")
        assert await synapse.admin.room_exists(room)

        await youth.send(room, "löschen")
        question = await youth.wait_for(room, process.user_id, "„ja löschen“")
        assert "Konto" in question
        assert "nicht rückgängig" in question
        await youth.send(room, "ja löschen")
        await youth.wait_for(room, process.user_id, "wird jetzt gelöscht")

        async def room_gone() -> bool:
            return not await synapse.admin.room_exists(room)
        await until(room_gone, within=60, what="the room to be purged")

        async def erased() -> bool:
            return await bot.store.conversation(conversation) is None
        await until(erased, what="the bot's records to be erased")
        assert await bot.store.read_intake(conversation) == []
        assert await bot.store.conversation_by_room(RoomID(room)) is None

        async def deactivated() -> bool:
            return (await synapse.admin.get_user(youth_user.user_id)).deactivated
        await until(deactivated, what="the youth's account to be deactivated")
        status, answer = await MatrixHttp(synapse.http, synapse.base_url).login(
            youth_user.user_id, youth_user.password)
        assert status in (401, 403), answer

        # The counsellor learns it in the staff room, by conversation id only; staff stay.
        staff_room = next(r for r in counsellor.client.rooms if r != room)
        notice = await counsellor.wait_for(staff_room, process.user_id, "gelöscht")
        assert conversation in notice
        assert youth_user.user_id not in notice
        assert room not in notice
        assert not (await synapse.admin.get_user(counsellor.client.user_id)).deactivated
        pending = [e.key for e in await bot.store.pending_outbox()]
        assert pending == [], pending


async def test_without_admin_access_the_youth_is_told_retention_deletes_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, youth, youth_user = c.counsellor, c.youth, c.youth_user
        process, bot = c.process, c.bot
        bot.executor.admin = None
        room = await assigned_conversation(process, counsellor, youth)
        await youth.send(room, "delete")
        question = await youth.wait_for(room, process.user_id, "Frist")
        assert "Sofort löschen kann ich" in question
        await youth.send(room, "yes delete")
        await youth.wait_for(room, process.user_id, "automatisch nach der festgelegten Frist")

        async def closed() -> bool:
            record = await bot.store.conversation_by_room(RoomID(room))
            return record is not None and record.state is ConversationState.CLOSED
        await until(closed, what="the conversation to be closed")
        assert await synapse.admin.room_exists(room)
        assert not (await synapse.admin.get_user(youth_user.user_id)).deactivated
        staff_room = next(r for r in counsellor.client.rooms if r != room)
        await counsellor.wait_for(staff_room, process.user_id, "Aufbewahrungsfrist")


class FailingDeactivation:
    """The real admin API, except that deactivation fails as if the homeserver were away:
    the bot is stopped in the middle of a deletion."""

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.tried = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.admin, name)

    async def deactivate(self, user_id: str, *, erase: bool = True) -> None:
        self.tried += 1
        raise AdminApiError("the homeserver is away", status=0)


async def test_a_deletion_interrupted_by_a_restart_completes_after_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, youth, youth_user = c.counsellor, c.youth, c.youth_user
        process, bot = c.process, c.bot
        failing = FailingDeactivation(synapse.admin)
        bot.executor.admin = failing
        room = await assigned_conversation(process, counsellor, youth)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        await youth.send(room, "löschen")
        await youth.wait_for(room, process.user_id, "„ja löschen“")
        await youth.send(room, "ja löschen")
        await until(lambda: failing.tried > 0, what="the deactivation to be tried")
        await process.stop()

        # Purged, but the records are kept until the remaining steps are done.
        assert not await synapse.admin.room_exists(room)
        assert not (await synapse.admin.get_user(youth_user.user_id)).deactivated

        bot = await process.start()
        bot.executor.admin = synapse.admin

        async def completed() -> bool:
            return (await bot.store.conversation(record.conversation) is None
                    and (await synapse.admin.get_user(youth_user.user_id)).deactivated)
        await until(completed, within=60, what="the deletion to complete after the restart")


async def test_deletion_takes_the_youth_out_of_the_group_book(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The runner's wiring on real Synapse: a youth with a seat in an announced group deletes
    their conversation; the stored group book no longer names them, the group stays."""
    from counsel_bot.conversation.group_keys import BOOK_KEY
    from counsel_bot.core.group_book_codec import decode_book

    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, youth, youth_user = c.counsellor, c.youth, c.youth_user
        process, bot = c.process, c.bot
        room, record = await conversation_with_admin(synapse, c)
        staff_room = next(r for r in counsellor.client.rooms if r != room)
        # Within the year a group may be announced ahead, on the real clock.
        day = (datetime.now(UTC) + timedelta(days=60)).strftime("%Y-%m-%d")
        await counsellor.send(staff_room, f'!group new "Prüfungsangst" {day} 18:00 90min max 8')
        await counsellor.wait_for(staff_room, process.user_id, "Gruppe 1 angekündigt")
        await youth.send(room, "gruppe 1")
        await youth.wait_for(room, process.user_id, "Du bist dabei: Gruppe 1")
        stored = await bot.store.get_sealed_setting(BOOK_KEY)
        assert stored is not None
        assert youth_user.user_id.encode() in stored

        await youth_deletes(c, room, record)
        stored = await bot.store.get_sealed_setting(BOOK_KEY)
        assert stored is not None
        assert youth_user.user_id.encode() not in stored
        assert room.encode() not in stored
        group = decode_book(stored).get(1)
        assert group.seats == ()
        assert group.named == 1


async def test_deletion_takes_the_youths_earlier_chats_with_the_account(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth who came back after an earlier chat (closed; their app made a new room for
    the new one) and then deletes: "ja löschen" deletes "the chat with all messages and
    your account". The account was erased, but the earlier chat stayed, its room with the
    youth's words and nickname on the homeserver and its record with their account id and
    nickname in the bot's store, until retention came for it weeks later: the youth's
    words survived the erasure of the account that wrote them."""
    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, youth, youth_user = c.counsellor, c.youth, c.youth_user
        process, bot = c.process, c.bot
        first, earlier = await conversation_with_admin(synapse, c)
        await counsellor.send(first, "!close")
        await youth.wait_for(first, process.user_id, "1 (gar nicht) bis 5")

        async def closed() -> bool:
            record = await bot.store.conversation(earlier.conversation)
            return record is not None and record.closed_at is not None
        await until(closed, what="the first conversation to be closed")

        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "Ich bin es wieder, mir geht es schlechter.")

        async def opened() -> bool:
            return await bot.store.conversation_by_room(RoomID(room)) is not None
        await until(opened, what="the second conversation")
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        assert record.conversation != earlier.conversation
        await youth_deletes(c, room, record)

        async def earlier_gone() -> bool:
            return (await bot.store.conversation(earlier.conversation) is None
                    and not await synapse.admin.room_exists(first))
        await until(earlier_gone, within=60,
                    what="the earlier chat of the deleted account to be deleted too")
        assert (await synapse.admin.get_user(youth_user.user_id)).deactivated


async def test_deletion_takes_back_the_youths_report_reason_from_the_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth reports a message with their app and types why ("er droht mir", often with
    names): the reason, the youth's own words, goes into the staff room, which no erasure
    purges. After "ja löschen" the chat was gone, and the youth's words stayed in the
    staff room on every colleague's app. The bot takes its message back (a redaction:
    apps drop it, and the homeserver its content)."""
    from nio import RoomSendResponse

    from counsel_bot.core.clock import FakeClock
    from counsel_bot.runtime.reports import pass_on_reports

    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, youth, process = c.counsellor, c.youth, c.process
        room, record = await conversation_with_admin(synapse, c)
        staff_room = next(r for r in counsellor.client.rooms if r != room)
        sent = await youth.client.room_send(room, "m.room.message",
                                            {"msgtype": "m.text", "body": "hallo"},
                                            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)
        reason = "mein Stiefvater Kanarienvogel droht mir"
        status, _ = await MatrixHttp(synapse.http, synapse.base_url,
                                     youth.client.access_token).call(
            "POST", f"/_matrix/client/v3/rooms/{room}/report/{sent.event_id}",
            {"reason": reason})
        assert status == 200
        assert await pass_on_reports(synapse.admin, c.bot.conductor,
                                     FakeClock(datetime.now(UTC))) == 1
        told = await counsellor.wait_for(staff_room, process.user_id, "Kanarienvogel",
                                         within=60)
        notice = counsellor.event_ids[told]

        await youth_deletes(c, room, record)

        staff = MatrixHttp(synapse.http, synapse.base_url, counsellor.client.access_token)

        async def taken_back() -> bool:
            status, event = await staff.call(
                "GET", f"/_matrix/client/v3/rooms/{staff_room}/event/{notice}")
            assert status == 200, event
            return "redacted_because" in event.get("unsigned", {})
        await until(taken_back, within=60,
                    what="the staff room's copy of the youth's report to be redacted")


async def test_deletion_takes_the_youths_rooms_without_a_conversation_with_the_account(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A youth with a second room where no conversation ever opened (greeted and left
    unanswered; one they posted to the forum or signed up for a group from is the same)
    deletes their chat and account. That room, with the nickname in its member events and
    whatever the youth wrote there, waited for the idle rooms' retention, weeks after the
    account it belonged to was erased."""
    from counsel_bot.conversation.idle_rooms import last_seen

    async with counselling(synapse, user_factory, tmp_path) as c:
        youth, process, bot = c.youth, c.process, c.bot
        idle = await youth.open_chat(process.user_id)
        await youth.wait_for(idle, process.user_id, "anonym")

        async def noted() -> bool:
            return await last_seen(bot.store, RoomID(idle)) is not None
        await until(noted, what="the greeted room to be noted")

        room, record = await conversation_with_admin(synapse, c)
        assert room != idle
        await youth_deletes(c, room, record)

        async def deactivated() -> bool:
            return (await synapse.admin.get_user(c.youth_user.user_id)).deactivated
        await until(deactivated, within=60, what="the account to be deactivated")

        async def idle_gone() -> bool:
            return not await synapse.admin.room_exists(idle)
        await until(idle_gone, within=60,
                    what="the deleted account's room without a conversation to be purged")
        assert await last_seen(bot.store, RoomID(idle)) is None


async def test_deletion_takes_back_the_youths_report_but_no_other_notice_sent_with_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Ordinary staff notices waiting together go out as one message (a digest). A report
    reason sent in one with another youth's notice was taken back with it at the deletion:
    the redaction took the other youth's notice (a handover's notes, a report of crisis
    words) off every colleague's app too."""
    from counsel_bot.conversation.change import Change
    from counsel_bot.core.effects import SayToStaff

    async with counselling(synapse, user_factory, tmp_path) as c:
        counsellor, process = c.counsellor, c.process
        room, record = await conversation_with_admin(synapse, c)
        staff_room = next(r for r in counsellor.client.rooms if r != room)
        step = Change(datetime.now(UTC), None)
        step.add(SayToStaff("staff_report", (
            ("where", record.conversation), ("reason", "mein Nachbar Wellensittich droht mir"),
            ("link", f"https://matrix.to/#/{room}"))), f"report-test:{record.conversation}")
        step.add(SayToStaff("staff_new_conversation", (
            ("conversation", "C-ANDERE"), ("language", "de"))), "new-test:C-ANDERE")
        await c.bot.conductor.commit(step)
        report = counsellor.event_ids[await counsellor.wait_for(
            staff_room, process.user_id, "Wellensittich", within=60)]
        other = counsellor.event_ids[await counsellor.wait_for(
            staff_room, process.user_id, "C-ANDERE", within=60)]

        await youth_deletes(c, room, record)

        staff = MatrixHttp(synapse.http, synapse.base_url, counsellor.client.access_token)

        async def redacted(event_id: str) -> bool:
            status, event = await staff.call(
                "GET", f"/_matrix/client/v3/rooms/{staff_room}/event/{event_id}")
            assert status == 200, event
            return "redacted_because" in event.get("unsigned", {})

        await until(lambda: redacted(report), within=60,
                    what="the staff room's copy of the youth's report to be redacted")
        assert not await redacted(other), "another youth's notice was taken back with it"
