"""Issue 23 end to end: a counsellor on an unverified device, a youth on Element's own crypto in
strict mode (matrix-js-sdk + Rust crypto, OnlySignedDevicesIsolationMode), real Synapse.

The counsellor is a plain matrix-nio device, which is never cross-signed unless someone does
it; here the project's own e2e/cross_signing code plays the counsellor verifying the session.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from counsel_bot.core.ids import UserID
from e2e.cross_signing import CrossSigningSeeds
from e2e.cross_signing_upload import ensure_cross_signed
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login_as, provision_bot, until
from tests.support.js_client import open_js_client

pytestmark = pytest.mark.integration

UNSIGNED = "UNSIGNED_SENDER_DEVICE"


async def test_unverified_counsellor_is_warned_and_read_by_a_strict_youth_once_verified(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    staff_user = await user_factory("counsellor")
    counsellor = await login_as(synapse, staff_user, tmp_path)
    me = UserID(counsellor.client.user_id)
    device = str(counsellor.client.device_id)
    bot = await provision_bot(synapse, tmp_path / "bot", staff=[me])
    await bot.start()
    try:
        live = bot.bot
        assert live is not None
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        await counsellor.wait_for(staff_room, bot.user_id, "Du bist im Dienst")
        warning = await counsellor.wait_for(staff_room, bot.user_id, "nicht von dir bestätigt")
        assert me in warning
        assert device in warning
        assert "Einstellungen → Sitzungen" in warning
        assert "Wiederherstellungsschlüssel" in warning
        reminder = await counsellor.wait_for(staff_room, bot.user_id, "Achtung")
        assert device in reminder
        assert live.conductor.router.unsigned == {me}

        youth_user = await user_factory("strict-youth")
        async with open_js_client() as youth:
            await youth.login(synapse.base_url, youth_user.user_id, youth_user.password,
                              strict=True)
            await youth.start()
            room = await youth.create_dm(UserID(bot.user_id))
            await youth.wait_for_message(room, sender=UserID(bot.user_id), contains="anonym",
                                         within=30)
            await youth.send(room, "hallo, ich brauche jemanden zum reden")
            assert await counsellor.accept_invite() == room

            # Unverified: the strict youth cannot read the counsellor.
            await counsellor.send(room, "Hallo, ich bin da")
            failed = await youth.wait_for_undecryptable(room, sender=me)
            assert failed.reason == UNSIGNED

            # The counsellor verifies the session (cross-signs the device).
            session = counsellor.client.client_session
            assert session is not None
            await ensure_cross_signed(session, synapse.base_url,
                                      str(counsellor.client.access_token), me, device,
                                      CrossSigningSeeds.generate(), staff_user.password)
            started = time.monotonic()
            cleared = await counsellor.wait_for(staff_room, bot.user_id, "jetzt bestätigt")
            cleared_s = time.monotonic() - started
            assert me in cleared
            assert live.conductor.router.unsigned == frozenset()

            # The youth's client learns of the signature by itself (device-list change) ...
            await youth.wait_device_signed_by_owner(me, device, within=20)
            # ... and now reads the counsellor.
            await counsellor.send(room, "Jetzt kannst du mich lesen")
            got = await youth.wait_for_message(room, sender=me, contains="Jetzt kannst",
                                               within=20)
            assert got.body == "Jetzt kannst du mich lesen"
            print(f"staff-room 'verified' notice {cleared_s * 1000:.0f} ms after signing")

            async def gauge_zero() -> bool:
                return live.conductor.metrics is None or "counsel_on_duty_unverified_devices " \
                    "0.0" in live.conductor.metrics.render().decode()

            await until(gauge_zero, what="the gauge to drop to 0")
    finally:
        await bot.stop()
        await counsellor.close()
