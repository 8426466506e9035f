"""Issue 19, appointments, end to end: real Synapse, a real (nio, encrypting) youth client,
an injected clock for the reminders; with offices (issue 16), the office's hours and place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from nio import AsyncClient, DownloadResponse, MatrixRoom, RoomEncryptedFile, RoomSendResponse
from nio.crypto.attachments import decrypt_attachment

from counsel_bot.config import OfficeSettings, Settings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.video import VideoSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import goes_on_duty, login, office, on_duty, provision_bot

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 16:00 in Berlin


async def test_book_confirm_remind_and_cancel_an_appointment_with_a_real_youth(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(NOW)
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    files: list[RoomEncryptedFile] = []

    async def on_file(_: MatrixRoom, event: RoomEncryptedFile) -> None:
        files.append(event)
    youth.client.add_event_callback(on_file, RoomEncryptedFile)  # type: ignore[arg-type]

    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  clock=clock)
    process.settings = replace(
        process.settings, video=VideoSettings(base_url="https://meet.example.org"),
        appointments=AppointmentSettings(office_address="Musterstraße 1, Musterstadt"))
    bot_user = process.user_id
    await process.start()
    try:
        staff_room = await counsellor.accept_invite()
        await goes_on_duty(counsellor, staff_room, bot_user)
        room = await youth.open_chat(bot_user)
        await youth.wait_for(room, bot_user, "anonym")
        await youth.send(room, "hallo, können wir mal per video reden?")
        assert await counsellor.accept_invite() == room
        await counsellor.wait_for(room, bot_user, "per video reden")

        # Refused with a reason, to the counsellor only.
        await counsellor.send(room, "!appointment 2026-11-30 16:00 45min video")
        await counsellor.wait_for(staff_room, bot_user, "schon vorbei")

        await counsellor.send(room, "!appointment 2026-12-10 16:00 45min video")
        proposal = await youth.wait_for(room, bot_user, "Videogespräch vor")
        assert "10.12.2026 16:00" in proposal
        staff_note = await counsellor.wait_for(staff_room, bot_user, "vorgeschlagen")
        appointment_id = staff_note.split("Termin ", 1)[1].split(" ", 1)[0]
        assert appointment_id.startswith("T-")

        await youth.send(room, "ja")
        await youth.wait_for(room, bot_user, "der Termin steht")
        await counsellor.wait_for(staff_room, bot_user, "ist bestätigt")
        await counsellor.send(room, "prima, bis dann!")

        # The calendar file: an encrypted attachment the youth's client can open.
        await youth.wait_for(room, bot_user, ".ics")
        [event] = files
        download = await youth.client.download(event.url)
        assert isinstance(download, DownloadResponse)
        plain = decrypt_attachment(download.body, event.key["k"], event.hashes["sha256"],
                                   event.iv)
        [vevent] = icalendar.Calendar.from_ical(plain).walk("VEVENT")
        assert vevent.decoded("DTSTART") == START
        assert vevent.decoded("DTEND") == START + timedelta(minutes=45)
        assert b"BEGIN:VCALENDAR" not in download.body  # the server holds ciphertext only

        # Reminders to both sides: the day before, and 15 minutes before with the call link.
        clock.set(START - timedelta(hours=23))
        await youth.wait_for(room, bot_user, "Morgen", within=30)
        await counsellor.wait_for(staff_room, bot_user, "Morgen: Termin", within=30)
        clock.set(START - timedelta(minutes=14))
        await youth.wait_for(room, bot_user, "Gleich geht's los", within=30)
        await youth.wait_for(room, bot_user, "https://meet.example.org/", within=30)
        await counsellor.wait_for(staff_room, bot_user, "In 15 Minuten", within=30)

        # Cancelled from the staff room: the youth is told.
        await counsellor.send(staff_room, f"!appointment cancel {appointment_id}")
        await youth.wait_for(room, bot_user, "fällt leider aus", within=30)
        await counsellor.wait_for(staff_room, bot_user, "abgesagt")
    finally:
        await process.stop()
        for client in (youth, counsellor):
            await client.close()


async def test_an_offices_appointment_keeps_its_hours_and_names_its_address(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(NOW)  # Tuesday 11:00 in Berlin: the school office is open
    anna = await login(synapse, user_factory, tmp_path, "anna")
    ben = await login(synapse, user_factory, tmp_path, "ben")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[], clock=clock)
    process.settings = replace(
        process.settings,
        appointments=AppointmentSettings(office_address="Musterstraße 1, Musterstadt"),
        offices=(
            OfficeSettings(id="familie", name="Familienberatung", topics=("family",),
                           counsellors=(anna.client.user_id,),
                           address="Münsterplatz 1, 89073 Ulm"),
            OfficeSettings(id="schule", name="Schulberatung", topics=("school",),
                           counsellors=(ben.client.user_id,),
                           hours={"tue": ("09:00-12:00",), "thu": ("14:00-18:00",)},
                           address="Schulstraße 5, 89073 Ulm"),
        ))
    await process.start()
    try:
        assert process.bot is not None
        staff_room = await process.bot.staff_room()
        school_room = await process.bot.office_rooms.room_of("schule")
        assert staff_room is not None
        assert school_room is not None
        for member in (anna, ben):
            await member.accept_invite()
            await member.accept_invite()
            await goes_on_duty(member, staff_room, process.user_id)

        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "stelle:schule hallo, können wir uns mal treffen?")
        assert await ben.accept_invite() == room
        await ben.wait_for(room, process.user_id, "treffen")

        # Thursday 10:00 lies in [opening_hours] (always open here) but not in the school
        # office's own hours: refused in its staff room, naming the office and its hours.
        await ben.send(room, "!appointment 2026-12-10 10:00 45min inperson")
        refusal = await ben.wait_for(school_room, process.user_id, "Öffnungszeiten von "
                                     "Schulberatung")
        assert "Do 14:00–18:00" in refusal

        # Thursday 16:00 is within them: the youth is told the school office's address.
        await ben.send(room, "!appointment 2026-12-10 16:00 45min inperson")
        proposal = await youth.wait_for(room, process.user_id, "Termin vor Ort")
        assert "Schulstraße 5, 89073 Ulm" in proposal
        assert "Musterstraße" not in proposal
        assert "Münsterplatz" not in proposal
        await youth.send(room, "ja")
        await youth.wait_for(room, process.user_id, "der Termin steht")
    finally:
        await process.stop()
        for client in (anna, ben, youth):
            await client.close()


async def test_a_thumbs_up_on_the_proposal_confirms_it(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Element offers 👍 under every message: a youth who reacts so to "Passt dir …?" has
    answered, as far as they know. Dropped as an emoji carrying nothing, the appointment
    stayed unconfirmed: no calendar file, no reminders, and the counsellor never heard.
    A reaction under a counsellor's own message (a 👎 here) is no answer to the proposal, nor
    is one under another message of the bot's (a 👎 under its welcome declined it)."""
    def with_address(settings: Settings) -> Settings:
        return replace(settings, appointments=AppointmentSettings(
            office_address="Musterstraße 1, Musterstadt"))

    async with office(synapse, user_factory, tmp_path, clock=FakeClock(NOW),
                      configure=with_address) as o:
        counsellor, youth, bot_user = o.counsellor, o.youth, o.bot_user
        staff_room = await on_duty(counsellor, bot_user)
        room = await youth.open_chat(bot_user)
        welcome = await youth.wait_for(room, bot_user, "anonym")
        await youth.send(room, "hallo, können wir uns mal treffen?")
        assert await counsellor.accept_invite() == room
        await counsellor.wait_for(room, bot_user, "treffen")

        await counsellor.send(room, "!appointment 2026-12-10 16:00 45min inperson")
        proposal = await youth.wait_for(room, bot_user, "Termin vor Ort")
        await counsellor.send(room, "ich schau mal, ob ich noch einen Raum finde")
        aside = await youth.wait_for(room, counsellor.client.user_id, "Raum finde")
        await _react(youth.client, room, youth.event_ids[aside], "👎")
        await _react(youth.client, room, youth.event_ids[welcome], "👎")
        await _react(youth.client, room, youth.event_ids[proposal], "👍")

        # Taken in order: had a 👎 declined it, the 👍 would have found nothing open.
        await youth.wait_for(room, bot_user, "der Termin steht")
        await counsellor.wait_for(staff_room, bot_user, "ist bestätigt")
        await youth.wait_for(room, bot_user, ".ics")
        assert not [b for r, s, b in youth.received
                    if r == room and s == bot_user and "dann nicht zu dieser Zeit" in b]


async def _react(client: AsyncClient, room_id: str, to: str, key: str) -> None:
    sent = await client.room_send(room_id, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": to, "key": key}},
        ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse), sent
