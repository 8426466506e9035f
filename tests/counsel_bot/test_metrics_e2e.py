"""Issue 7: real conversations move each metric; a stock parser reads /metrics; no ids leak."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from counsel_bot.config import WebConfig
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory, free_port
from tests.support.bot_harness import NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration



async def scrape(url: str) -> dict[str, float]:
    """Sample name -> value, summed over labels; "name|source" for crisis flags' sources."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        text = await response.text()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[sample.name] = values.get(sample.name, 0.0) + sample.value
            if "source" in sample.labels:  # who raised a crisis flag: also summed by it
                key = f"{sample.name}|{sample.labels['source']}"
                values[key] = values.get(key, 0.0) + sample.value
            for label, value in sample.labels.items():
                looks_like_id = any(mark in value for mark in "@!:")
                assert not looks_like_id, f"{sample.name}{{{label}={value!r}}} looks like an id"
    return values


async def test_each_metric_moves_with_real_conversations(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 19, 0, tzinfo=UTC))
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  team_leads=[lead.client.user_id], clock=clock)
    port = free_port()
    process.settings = replace(process.settings, web=WebConfig(port=port))
    url = f"http://127.0.0.1:{port}/metrics"
    youths: list[NioYouth] = []
    await process.start()
    try:
        staff_room = await counsellor.accept_invite()
        await lead.accept_invite()
        start = await scrape(url)

        youth = await login(synapse, user_factory, tmp_path, "youth")
        youths.append(youth)
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "ich ritze mich seit wochen")
        await lead.wait_for(staff_room, process.user_id, "KRISENHINWEIS")
        waiting = await scrape(url)
        assert waiting["counsel_queue_length"] == 1
        assert waiting["counsel_conversations_opened_total"] == 1
        assert waiting["counsel_crisis_flags_total"] == 1
        assert waiting["counsel_crisis_flags_total|rule"] == 1  # de.self_harm.001
        assert waiting["counsel_crisis_flags_open"] == 1

        clock.advance(timedelta(minutes=3))
        await lead.wait_for(staff_room, process.user_id, "🚨")
        assert (await scrape(url))["counsel_escalations_total"] == 1

        await counsellor.send(staff_room, "!duty on")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        assigned = await scrape(url)
        assert assigned["counsel_counsellors_on_duty"] == 1
        assert assigned["counsel_open_conversations"] == 1
        assert assigned["counsel_queue_length"] == 0
        assert assigned["counsel_wait_to_assignment_seconds_count"] == 1
        assert assigned["counsel_wait_to_assignment_seconds_sum"] >= 180

        await counsellor.accept_invite()
        clock.advance(timedelta(seconds=40))
        await counsellor.send(room, "Hallo, ich bin da. Magst du erzählen?")
        await counsellor.send(room, "!confirm")
        # "Krisenhinweis C-… bestätigt.": the staff room also says "nicht bestätigt (…" to a
        # counsellor whose session is not cross-signed, which this nio counsellor's is not.
        await counsellor.wait_for(staff_room, process.user_id, " bestätigt.")
        reviewed = await scrape(url)
        assert reviewed["counsel_first_reply_seconds_count"] == 1
        assert reviewed["counsel_crisis_reviews_total"] == 1
        assert reviewed["counsel_crisis_reviews_total|rule"] == 1

        await counsellor.send(room, "!close")
        await youth.wait_for(room, process.user_id, "1 (gar nicht) bis 5")
        await youth.send(room, "4")
        await youth.wait_for(room, process.user_id, "Danke für deine Rückmeldung")
        closed = await scrape(url)
        assert closed["counsel_conversations_closed_total"] == 1
        assert closed["counsel_feedback_total"] == 1
        assert closed.get("counsel_open_conversations", 0) == 0
        assert start["counsel_conversations_closed_total"] == 0
    finally:
        await process.stop()
        for client in (*youths, counsellor, lead):
            await client.close()


async def test_a_mail_left_unanswered_past_its_deadline_is_counted(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    import aiosmtplib

    from homeserver_bridge.mail import MailSettings
    from tests.support.mail_e2e import OFFICE, youth_mail

    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[],
                                  team_leads=[lead.client.user_id], clock=clock)
    port = free_port()
    process.settings = replace(
        process.settings, web=WebConfig(port=port),
        mail=MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                          smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False))
    url = f"http://127.0.0.1:{port}/metrics"
    bot = await process.start()
    try:
        staff_room = await lead.accept_invite()
        assert bot.mail is not None
        assert bot.mail.inbound is not None
        await aiosmtplib.send(youth_mail("Hallo, ist da jemand?", "<d1@youth.example>"),
                              hostname="127.0.0.1", port=bot.mail.inbound.port,
                              start_tls=False)
        await lead.wait_for(staff_room, process.user_id, "Mail-Anfrage")
        assert (await scrape(url))["counsel_mail_deadline_breaches_total"] == 0

        # Due at the end of the second working day (midnight in Berlin, Wednesday); the
        # reminder comes as the last working day before it ends.
        clock.advance(timedelta(days=1, hours=15))
        await lead.wait_for(staff_room, process.user_id, "Erinnerung", within=60)
        clock.advance(timedelta(days=1))  # Thursday: no reply went out in time
        await lead.wait_for(staff_room, process.user_id, "Frist verpasst", within=60)

        async def counted() -> bool:
            return (await scrape(url))["counsel_mail_deadline_breaches_total"] == 1
        await until(counted, what="the breach to be counted")
    finally:
        await process.stop()
        await lead.close()
