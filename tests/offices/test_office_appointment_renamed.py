"""The family office is renamed ("familie" → "eltern", same lead) and the bot restarted: an
appointment booked with it in a conversation closed since is the renamed office's, as the
conversation is (rule 2 of core/routing/offices.py: a removed office's is the fallback
office's). Its lead was told the appointment does not exist, and nobody could cancel or
move it: the youth came to a meeting nobody would hold."""

from __future__ import annotations

import copy

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core import appointments as ap
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import EventID, RoomID
from counsel_bot.runtime.runner import policy_from
from tests.offices.test_office_appointments import (
    LEAD_A,
    NOW,
    WITH_LEADS,
    _cancel_replies,
    closed_with_an_appointment,
)


async def test_the_renamed_offices_lead_cancels_an_appointment_booked_before() -> None:
    c, appointment = await closed_with_an_appointment()

    renamed = copy.deepcopy(WITH_LEADS)
    renamed["offices"][0]["id"] = "eltern"  # the first office: the fallback too
    again = await Conductor.open(c.store, CrisisDetector.from_directory(default_lexicon_dir()),
                                 policy_from(settings_from_mapping(renamed)), NOW)
    await again.sync_roster(NOW)
    await again.staff_wrote(RoomID("!staff:x"), LEAD_A, EventID("$l2"),
                            f"!appointment cancel {appointment.id}", NOW)
    assert await _cancel_replies(again, LEAD_A) != ["appointments.unknown"]
    assert again.appointments.known[appointment.id].status is ap.Status.CANCELLED
