"""A youth upgrades the room of their open chat (Element's ``/upgraderoom``; a room they made
as Element makes a direct chat is theirs to upgrade). Synapse then raises the old room's
posting level, so the counsellor's every message was refused (M_FORBIDDEN), and the new
room held only the youth: the conversation went silent and nobody was told. Now the bot
moves the youth into a room of its own, where the same conversation (its counsellor, crisis
flag and record) goes on, and tells the counsellor in the staff room. Real Synapse, the
real bot, nio clients."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nio import RoomCreateError, RoomCreateResponse, RoomSendError, RoomUpgradeEvent, SyncResponse

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, Office, office, on_duty, until

pytestmark = pytest.mark.integration


async def in_counselling(o: Office) -> tuple[str, str]:
    """The counsellor on duty, the youth's Element-style chat given to her: the staff room
    and that chat's room."""
    staff_room = await on_duty(o.counsellor, o.bot_user)
    first = await o.youth.open_chat(o.bot_user)
    await o.youth.send(first, "hallo, ich hab stress zuhause ERSTE")
    room = await o.counsellor.accept_invite(within=60)
    assert room == first
    return staff_room, first


async def upgrade(synapse: SynapseHandle, youth: NioYouth, room: str) -> str:
    """What Element's ``/upgraderoom`` does: the room upgraded (to its own version); the
    replacement room."""
    headers = {"Authorization": f"Bearer {youth.client.access_token}"}
    base = f"{synapse.base_url}/_matrix/client/v3/rooms/{room}"
    async with synapse.http.get(f"{base}/state/m.room.create", headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        version = (await answer.json()).get("room_version", "1")
    async with synapse.http.post(f"{base}/upgrade", json={"new_version": version},
                                 headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        return str((await answer.json())["replacement_room"])


async def upgrade_and_stop(synapse: SynapseHandle, o: Office, first: str) -> str:
    """The youth upgrades ``first``; the bot moves the conversation and stops (killed, its
    machine rebooted) before it commits what tells the counsellor and the youth. The
    replacement room."""
    running = o.process._task
    assert running is not None

    async def stopped(_step: object) -> None:
        raise RuntimeError("the machine went down here")
    o.bot.upgrades._commit = stopped  # type: ignore[method-assign]
    replacement = await upgrade(synapse, o.youth, first)
    await until(running.done, within=60, what="the bot to stop")
    o.process._task = None
    return replacement


async def test_a_youth_who_upgrades_their_chat_goes_on_with_their_counsellor(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        await youth.send(first, "ich will mich umbringen")
        await counsellor.wait_for(staff_room, bot, "KRISENHINWEIS", within=60)
        before = await o.bot.store.conversation_by_room(RoomID(first))
        assert before is not None

        replacement = await upgrade(synapse, youth, first)

        # The counsellor learns it in the staff room, with the conversation's number.
        notice = await counsellor.wait_for(staff_room, bot, "aktualisiert", within=60)
        assert before.conversation in notice
        # Both are invited into a room of the bot's own (not the youth's replacement).
        def invited_elsewhere(user: NioYouth) -> bool:
            return any(r not in (first, replacement, staff_room) for r in user.invited_to())
        await until(lambda: invited_elsewhere(youth), within=60, what="the youth's invitation")
        moved = await youth.accept_invite(within=60)
        assert moved not in (first, replacement)
        await until(lambda: invited_elsewhere(counsellor), within=60,
                    what="the counsellor's invitation")
        assert await counsellor.accept_invite(within=60) == moved

        # The same conversation, with its counsellor and its crisis flag.
        after = await o.bot.store.conversation_by_room(RoomID(moved))
        assert after is not None
        assert after.conversation == before.conversation
        assert await o.bot.store.conversation_by_room(RoomID(first)) is None
        current = o.bot.conductor.router.conversation(after.conversation)
        assert current is not None
        assert current.assigned_to == counsellor.client.user_id
        assert current.crisis.value != "none"

        await youth.send(moved, "bin wieder da NEU")
        await counsellor.wait_for(moved, youth.client.user_id, "NEU", within=60)
        await counsellor.send(moved, "schön, dass du da bist ANTWORT")
        await youth.wait_for(moved, counsellor.client.user_id, "ANTWORT", within=60)
        assert o.bot.conductor.router.queue() == []


async def came_over(youth: NioYouth, first: str, replacement: str, *,
                    within: float = 60) -> str:
    """The youth accepts the invitation into the bot's room for the move (neither the
    upgraded room nor its replacement); that room."""
    await until(lambda: any(r not in (first, replacement) for r in youth.invited_to()),
                within=within, what="the youth's invitation")
    return await youth.accept_invite(within=60)


async def moved_after_upgrade(synapse: SynapseHandle, o: Office) -> tuple[str, str, str]:
    """The youth in counselling upgrades their chat; the staff room, the old room and the
    bot's room they are invited to (not yet joined)."""
    staff_room, first = await in_counselling(o)
    await o.counsellor.wait_for(first, o.bot_user, "ERSTE", within=60)
    replacement = await upgrade(synapse, o.youth, first)
    await o.counsellor.wait_for(staff_room, o.bot_user, "aktualisiert", within=60)

    def invited_elsewhere() -> bool:
        return any(r not in (first, replacement) for r in o.youth.invited_to())
    await until(invited_elsewhere, within=60, what="the youth's invitation")
    moved = next(r for r in o.youth.invited_to() if r not in (first, replacement))
    return staff_room, first, moved


async def test_words_still_written_in_the_upgraded_room_reach_the_counsellor(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """An app that still lets the youth write in the old room (not every app hides it):
    their words count in the conversation, now in the bot's room, and reach her there."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, first, moved = await moved_after_upgrade(synapse, o)
        assert await counsellor.accept_invite(within=60) == moved
        await youth.send(first, "noch im alten raum ALT")
        await counsellor.wait_for(moved, bot, "ALT", within=60)
        # The youth is told where to go on (in the old room: they are not over yet).
        await youth.wait_for(first, bot, "Einladung", within=60)


async def test_ja_loeschen_after_an_upgrade_purges_the_old_room_too(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The old room holds the youth's first words (and the counsellor's answers): it goes
    with the conversation, as a first room does."""
    async with office(synapse, user_factory, tmp_path, admin=True) as o:
        youth, bot = o.youth, o.bot_user
        _staff_room, first, moved = await moved_after_upgrade(synapse, o)
        assert await youth.accept_invite(within=60) == moved
        record = await o.bot.store.conversation_by_room(RoomID(moved))
        assert record is not None

        await youth.delete_chat(moved, bot)

        async def erased() -> bool:
            return await o.bot.store.conversation(record.conversation) is None
        await until(erased, within=90, what="the erasure")
        assert not await synapse.admin.room_exists(moved)
        assert not await synapse.admin.room_exists(first)


async def test_an_upgrade_while_the_bot_is_stopped_is_taken_at_its_start(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A restart at night, the youth upgrading meanwhile: the tombstone comes with the
    first sync after the start, and the youth is moved then, once."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        await o.process.stop()
        replacement = await upgrade(synapse, youth, first)
        await o.process.start()

        await counsellor.wait_for(staff_room, bot, "aktualisiert", within=60)
        moved = await came_over(youth, first, replacement)
        await youth.send(moved, "bin wieder da NEU")
        assert await counsellor.accept_invite(within=60) == moved
        await counsellor.wait_for(moved, youth.client.user_id, "NEU", within=60)

        # Started again, the bot reads the tombstone no second time.
        await o.process.stop()
        await o.process.start()
        await youth.send(moved, "immer noch hier NOCHMAL")
        await counsellor.wait_for(moved, youth.client.user_id, "NOCHMAL", within=60)
        assert len([r for r in youth.invited_to() if r not in (first, replacement)]) == 0
        notices = [b for r, _s, b in counsellor.received
                   if r == staff_room and "aktualisiert" in b]
        assert len(notices) == 1, notices


async def test_a_stop_between_the_move_and_its_notices_still_tells_them(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The conversation was moved to the bot's room, and the bot stopped (killed, its
    machine rebooted) before it committed what tells the counsellor and the youth: at the
    start the tombstone is read again, the old room has no conversation any more, and
    nobody was told that the chat goes on elsewhere."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        replacement = await upgrade_and_stop(synapse, o, first)
        await o.process.start()

        await counsellor.wait_for(staff_room, bot, "aktualisiert", within=60)
        moved = await came_over(youth, first, replacement)
        assert await counsellor.accept_invite(within=60) == moved
        await youth.wait_for(moved, bot, "aktualisiert", within=60)


async def test_a_lead_reading_along_comes_along_read_only(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A team lead supervising the chat lost it with the upgrade, told nothing: she is
    invited into the bot's room too, read-only there as before."""
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        counsellor, youth, bot, lead = o.counsellor, o.youth, o.bot_user, o.lead
        assert lead is not None
        staff_room = await on_duty(counsellor, bot)
        assert await lead.accept_invite(within=60) == staff_room
        first = await youth.open_chat(bot)
        await youth.send(first, "hallo, ich hab stress zuhause ERSTE")
        assert await counsellor.accept_invite(within=60) == first
        record = await o.bot.store.conversation_by_room(RoomID(first))
        assert record is not None
        await lead.send(staff_room, f"!supervise {record.conversation}")
        assert await lead.accept_invite(within=60) == first

        replacement = await upgrade(synapse, youth, first)
        await counsellor.wait_for(staff_room, bot, "aktualisiert", within=60)
        moved = await came_over(youth, first, replacement)
        await until(lambda: moved in lead.invited_to(), within=60, what="the lead's invitation")
        assert await lead.accept_invite(within=60) == moved
        await youth.send(moved, "bin wieder da NEU")
        await lead.wait_for(moved, youth.client.user_id, "NEU", within=60)
        answer = await lead.client.room_send(
            moved, "m.room.message", {"msgtype": "m.text", "body": "Hallo"},
            ignore_unverified_devices=True)
        assert isinstance(answer, RoomSendError), answer
        assert answer.status_code == "M_FORBIDDEN"


async def test_an_upgrade_that_invites_the_members_along_keeps_one_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Element's upgrade dialog offers to invite the old room's members into the new one:
    the bot comes into the youth's replacement room as into a second chat. What the youth
    writes there counts in the conversation (in the bot's room), reaches the counsellor,
    and the youth is shown the way there; no second conversation opens."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, first, moved = await moved_after_upgrade(synapse, o)
        assert await counsellor.accept_invite(within=60) == moved
        replacement = next(r for r in youth.client.rooms
                           if r not in (first, moved, _staff_room)
                           and r not in youth.client.invited_rooms)
        await youth.client.room_invite(replacement, bot)
        await youth.client.room_invite(replacement, counsellor.client.user_id)
        await youth.send(replacement, "bin ich hier richtig? ERSATZ")
        await counsellor.wait_for(moved, bot, "ERSATZ", within=60)
        await youth.wait_for(replacement, bot, f"https://matrix.to/#/{moved}", within=60)
        assert len(o.bot.conductor.router.snapshot().conversations) == 1


async def test_an_upgrade_the_homeserver_gives_no_room_for_is_told_to_the_leads(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The homeserver refuses the bot a room (its account may not create rooms any more,
    say): the conversation cannot move, and the staff and the youth are told so, with the
    leads called (an admin must act), the youth given the numbers in the old room."""
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        counsellor, youth, bot, lead = o.counsellor, o.youth, o.bot_user, o.lead
        assert lead is not None
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        client = o.bot.client

        async def refused(*_args: object, **_kwargs: object) -> RoomCreateError:
            return RoomCreateError("You are not permitted to create rooms", "M_FORBIDDEN")
        client.room_create = refused  # type: ignore[method-assign]
        await upgrade(synapse, youth, first)

        notice = await counsellor.wait_for(staff_room, bot, "aktualisiert", within=90)
        assert lead.client.user_id in notice
        assert counsellor.client.user_id in notice
        await youth.wait_for(first, bot, "aktualisiert", within=60)
        assert await o.bot.store.conversation_by_room(RoomID(first)) is not None
        # Nothing keeps naming the room for a request that made none.
        assert await o.bot.store.get_setting(f"move_asked:{first}") is None


async def test_a_waiting_youth_who_upgrades_is_given_out_in_the_bots_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Nobody on duty yet: the youth waits in the queue, upgrades, and keeps their place;
    the counsellor who comes on duty is invited into the bot's room and reads there what
    the youth wrote before (the transcript)."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room = await counsellor.accept_invite(within=60)
        first = await youth.open_chat(bot)
        await youth.send(first, "hallo, ich warte hier WARTEND")
        await youth.wait_for(first, bot, "Warteschlange", within=60)
        replacement = await upgrade(synapse, youth, first)
        await counsellor.wait_for(staff_room, bot, "aktualisiert", within=60)
        moved = await came_over(youth, first, replacement)

        await counsellor.send(staff_room, "!duty on")
        assert await counsellor.accept_invite(within=60) == moved
        await counsellor.wait_for(moved, bot, "WARTEND", within=60)  # the transcript
        await youth.send(moved, "da bin ich NEU")
        await counsellor.wait_for(moved, youth.client.user_id, "NEU", within=60)
        assert len(o.bot.conductor.router.snapshot().conversations) == 1


async def test_a_youth_who_came_over_while_the_bot_was_stopped_is_taken_as_arrived(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot stopped right after it moved the conversation (before its notices), and the
    youth accepted the invitation and wrote in the bot's room meanwhile: started again, the
    bot must still invite the counsellor and tell the staff, once, and take the youth as
    arrived (no second invitation; their words there reach her, once). The first sync after
    the start brings the youth's join and the tombstone in rooms of no set order (Synapse
    builds them concurrently); the join first ended the move, and the tombstone, read
    after, found no room to tell of: nobody was told, the counsellor never invited."""
    handle_sync = CounselBot.handle_sync

    async def joins_first(bot: CounselBot, response: SyncResponse) -> None:
        def upgraded(item: tuple[str, Any]) -> bool:
            return any(isinstance(e, RoomUpgradeEvent) for e in item[1].timeline.events)
        response.rooms.join = dict(sorted(response.rooms.join.items(), key=upgraded))
        await handle_sync(bot, response)

    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        replacement = await upgrade_and_stop(synapse, o, first)
        moved = await came_over(youth, first, replacement)
        await youth.send(moved, "schon drüben SCHONDA")
        monkeypatch.setattr(CounselBot, "handle_sync", joins_first)
        await o.process.start()

        await counsellor.wait_for(staff_room, bot, "geht deshalb im Raum", within=60)
        assert await counsellor.accept_invite(within=60) == moved
        await until(lambda: any(r == moved and "SCHONDA" in b
                                for r, _s, b in counsellor.received),
                    within=60, what="the youth's words in the bot's room")
        await youth.send(moved, "immer noch hier NOCHMAL")
        await counsellor.wait_for(moved, youth.client.user_id, "NOCHMAL", within=60)
        assert youth.invited_to() == set()
        notices = [b for r, _s, b in counsellor.received
                   if r == staff_room and "geht deshalb im Raum" in b]
        assert len(notices) == 1, notices
        assert len([b for r, _s, b in counsellor.received
                    if r == moved and "SCHONDA" in b]) == 1



async def test_an_upgrade_the_homeserver_answers_late_still_moves_the_youth(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The homeserver silent for longer than the bot waits for the room of the move (a
    stalled database, a restart of Synapse): the staff are told and the flagged conversation
    stays as it was; once the homeserver answers, the youth is moved after all (before, its
    answer reached nobody: the youth was invited into an empty room of the bot's and the
    counsellor never, the conversation stuck in the room nobody of the team can write in)."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        await youth.send(first, "ich will nicht mehr leben")
        await counsellor.wait_for(staff_room, bot, "KRISENHINWEIS", within=60)
        before = await o.bot.store.conversation_by_room(RoomID(first))
        assert before is not None
        client = o.bot.client
        real = client.room_create
        answering = asyncio.Event()

        async def silent(*args: object, **kwargs: object) -> object:
            await answering.wait()
            return await real(*args, **kwargs)  # type: ignore[arg-type]
        client.room_create = silent  # type: ignore[method-assign]
        replacement = await upgrade(synapse, youth, first)

        await counsellor.wait_for(staff_room, bot, "keinen Raum", within=120)
        # Meanwhile the conversation is as it was: its counsellor, its crisis flag.
        kept = await o.bot.store.conversation_by_room(RoomID(first))
        assert kept is not None
        assert kept.conversation == before.conversation
        current = o.bot.conductor.router.conversation(before.conversation)
        assert current is not None
        assert current.assigned_to == counsellor.client.user_id
        assert current.crisis.value != "none"

        answering.set()
        moved = await came_over(youth, first, replacement, within=120)
        assert await counsellor.accept_invite(within=120) == moved
        await counsellor.wait_for(staff_room, bot, "geht deshalb im Raum", within=60)
        after = await o.bot.store.conversation_by_room(RoomID(moved))
        assert after is not None
        assert after.conversation == before.conversation
        current = o.bot.conductor.router.conversation(before.conversation)
        assert current is not None
        assert current.crisis.value != "none"
        await youth.send(moved, "bin wieder da NEU")
        await counsellor.wait_for(moved, youth.client.user_id, "NEU", within=60)
        assert len(o.bot.conductor.router.snapshot().conversations) == 1


async def test_a_flagged_youth_waiting_in_the_queue_who_upgrades_keeps_their_place(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Nobody on duty, the youth's words flagged: they upgrade while they wait. The flag
    and their place first in the queue go along, and the counsellor who comes on duty is
    invited into the bot's room, not the old one nobody of the team can write in."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room = await counsellor.accept_invite(within=60)
        first = await youth.open_chat(bot)
        await youth.send(first, "ich will nicht mehr leben WARTEND")
        await counsellor.wait_for(staff_room, bot, "KRISENHINWEIS", within=60)
        before = await o.bot.store.conversation_by_room(RoomID(first))
        assert before is not None
        replacement = await upgrade(synapse, youth, first)
        await counsellor.wait_for(staff_room, bot, "geht deshalb im Raum", within=60)
        moved = await came_over(youth, first, replacement)
        current = o.bot.conductor.router.conversation(before.conversation)
        assert current is not None
        assert current.crisis.value != "none"
        assert o.bot.conductor.router.queue() == [before.conversation]

        await counsellor.send(staff_room, "!duty on")
        assert await counsellor.accept_invite(within=60) == moved
        await youth.send(moved, "da bin ich NEU")
        await counsellor.wait_for(moved, youth.client.user_id, "NEU", within=60)
        assert len(o.bot.conductor.router.snapshot().conversations) == 1



async def test_an_upgrade_of_a_room_the_youth_is_moved_out_of_keeps_one_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A room the bot cannot moderate (its youth made it a plain private chat): the youth
    is moved to the bot's room, and upgrades the first one before coming over, inviting the
    bot into the replacement as Element's dialog offers. Their words there count in the
    conversation they have and reach its counsellor, and no second conversation opens.
    (Before, the replacement was linked to nothing: the bot took it for a new chat.)"""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room = await on_duty(counsellor, bot)
        first = await youth.open_chat(bot, like_element=False)
        await youth.send(first, "hallo, ich hab stress zuhause ERSTE")
        await until(lambda: any(r != first for r in youth.invited_to()),
                    within=60, what="the youth's invitation")
        moved = next(iter(youth.invited_to()))
        assert await counsellor.accept_invite(within=60) == moved

        replacement = await upgrade(synapse, youth, first)
        await counsellor.wait_for(staff_room, bot, "geht deshalb im Raum", within=60)
        await youth.client.room_invite(replacement, bot)
        await youth.send(replacement, "bin ich hier richtig? ERSATZ")
        await counsellor.wait_for(moved, bot, "ERSATZ", within=60)
        assert len(o.bot.conductor.router.snapshot().conversations) == 1


async def test_an_upgrade_of_the_replacement_room_keeps_one_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Two upgrades in a row: the youth, not yet in the bot's room, upgrades the replacement
    room they invited the bot into (their second chat) as well, and invites it along again.
    What they write in the newest room counts in the conversation they have and reaches its
    counsellor; no second conversation opens for it."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first, moved = await moved_after_upgrade(synapse, o)
        assert await counsellor.accept_invite(within=60) == moved
        replacement = next(r for r in youth.client.rooms
                           if r not in (first, moved, staff_room)
                           and r not in youth.client.invited_rooms)
        await youth.client.room_invite(replacement, bot)
        await youth.send(replacement, "bin ich hier richtig? ERSATZ")
        await counsellor.wait_for(moved, bot, "ERSATZ", within=60)

        again = await upgrade(synapse, youth, replacement)
        await youth.client.room_invite(again, bot)
        await youth.send(again, "und jetzt hier? ZWEITES")
        await counsellor.wait_for(moved, bot, "ZWEITES", within=60)
        assert len(o.bot.conductor.router.snapshot().conversations) == 1


async def test_the_bot_reads_on_while_the_room_for_an_upgrade_is_not_answered(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The homeserver answers the room for the move late (it answers once it has sent the
    youth's invitation, over federation to their homeserver, which may take minutes): the
    bot waited for it 30 s with its sync loop, reading nobody meanwhile, a counsellor's
    command or another youth's crisis words neither. It reads on, and moves the youth once
    the room is there."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        client = o.bot.client
        real = client.room_create
        asked, answering = asyncio.Event(), asyncio.Event()

        async def late(*args: object, **kwargs: object) -> object:
            asked.set()
            await answering.wait()
            return await real(*args, **kwargs)  # type: ignore[arg-type]
        client.room_create = late  # type: ignore[method-assign]
        replacement = await upgrade(synapse, youth, first)
        await until(asked.is_set, within=60, what="the room for the move asked for")

        await counsellor.send(staff_room, "!help status")
        await counsellor.wait_for(staff_room, bot, "Dein Dienststatus", within=60)
        assert not any("keinen Raum" in b for r, _s, b in counsellor.received
                       if r == staff_room)

        answering.set()
        moved = await came_over(youth, first, replacement)
        assert await counsellor.accept_invite(within=60) == moved
        await counsellor.wait_for(staff_room, bot, "geht deshalb im Raum", within=60)


async def test_a_chat_closed_before_the_late_room_comes_leaves_no_invitation_into_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The room for the move not answered yet, the counsellor closes the conversation: the
    room the homeserver makes after all holds no conversation, and the youth's invitation
    into it would open a chat nobody knows of; it is undone. (A youth who leaves the old
    room has it undone by `MoveLeftovers.given_up`.)"""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        before = await o.bot.store.conversation_by_room(RoomID(first))
        assert before is not None
        client = o.bot.client
        real = client.room_create
        asked, answering = asyncio.Event(), asyncio.Event()
        made: list[str] = []

        async def late(*args: object, **kwargs: object) -> object:
            asked.set()
            await answering.wait()
            answer = await real(*args, **kwargs)  # type: ignore[arg-type]
            if isinstance(answer, RoomCreateResponse):
                made.append(answer.room_id)
            return answer
        client.room_create = late  # type: ignore[method-assign]
        await upgrade(synapse, youth, first)
        await until(asked.is_set, within=60, what="the room for the move asked for")
        # Closed meanwhile (from the staff room: nobody of the team can write in the old
        # one); the youth stays where they are.
        await counsellor.send(staff_room, f"!close {before.conversation}")
        await until(lambda: o.bot.conductor.router.conversation(before.conversation) is None,
                    within=60, what="the chat to close")

        answering.set()
        await until(lambda: bool(made), within=60, what="the late room")
        # Asked of Synapse's admin API: nio keeps an invitation taken back among the invited
        # rooms, and the bot, once it has left and forgotten the room, may not read it.
        async def not_invited() -> bool:
            answer = await synapse.admin.request(
                "GET", f"/_synapse/admin/v1/rooms/{quote(made[0])}/state")
            return not [e for e in answer["state"] if e["type"] == "m.room.member"
                        and e["state_key"] == youth.client.user_id
                        and e["content"].get("membership") == "invite"]
        await until(not_invited, within=60, what="no invitation into the late room")
        assert await o.bot.store.get_setting(f"upgrade_due:{first}") is None
