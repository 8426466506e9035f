"""The bot's login revoked while it runs (an admin logged its device out): nothing pending is
dropped, the bot stops and says why, and the next start logs in as a new device and sends
what was pending. Before, every effect was refused five times and dropped (a crisis alert
and the youth's numbers among them) while the sync loop retried once a second for ever
(an outside review, 2026-12-06). Real Synapse, real E2E clients."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendError

from counsel_bot.channels.matrix.executor import _check as check_answer
from counsel_bot.channels.matrix.session import LoginRevoked
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import PASSPHRASE, login, provision_bot, until
from tests.support.matrix_http import MatrixHttp

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


@pytest.mark.integration
async def test_a_revoked_login_stops_the_bot_and_loses_nothing(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite(within=60)
        room = await youth.open_chat(process.user_id)
        await youth.send(room, "hallo")
        await until(lambda: bot.store.conversation_by_room(RoomID(room)), what="the conversation")
        old_device = bot.client.device_id
        # The bot's next sync waits until the words below are handed over: a sync that saw
        # the logout first would end the loop and close the store under them (a race the
        # running bot cannot have: it hands words over from inside that loop).
        handed_over = asyncio.Event()
        sync_or_stop = bot._sync_or_stop

        async def after_the_words(*args: Any, **kwargs: Any) -> Any:
            await handed_over.wait()
            return await sync_or_stop(*args, **kwargs)

        bot._sync_or_stop = after_the_words  # type: ignore[method-assign]

        http = MatrixHttp(synapse.http, synapse.base_url, bot.client.access_token)
        status, _ = await http.call("POST", "/_matrix/client/v3/logout", {})
        assert status == 200
        # Words that reached the bot just before (a revoked login lets no new event in).
        await bot.conductor.youth_wrote(RoomID(room), UserID(youth.client.user_id), "youth",
                                        EventID("$just-before"), CRISIS, bot.clock.now())
        handed_over.set()
        assert process._task is not None
        with pytest.raises(LoginRevoked):
            await asyncio.wait_for(asyncio.shield(process._task), 60)
        process._task = None
        store = await SqliteStore.open(tmp_path / "bot" / "bot" / "counsel.db",
                                       Vault.open(tmp_path / "bot" / "bot" / "vault.json",
                                                  PASSPHRASE))
        try:
            kept = [e.key for e in await store.pending_outbox()]
        finally:
            await store.close()
        assert any(key.startswith("safety:") for key in kept), kept

        again = await process.start()
        assert again.client.device_id != old_device
        await counsellor.wait_for(staff_room, process.user_id, "KRISENHINWEIS", within=60)
        await youth.wait_for(room, process.user_id, "116 111", within=60)
    finally:
        await youth.close()
        await counsellor.close()
        await process.stop()


@pytest.mark.parametrize("status", ["M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"])
def test_a_refusal_for_a_revoked_login_is_never_for_good(status: str) -> None:
    """Effects refused for good are dropped after five tries: a refusal that only says the
    login is gone must not count as one, or a slow sync would let the alert go first."""
    with pytest.raises(EffectFailed) as refused:
        check_answer(RoomSendError("Invalid access token passed.", status), "send")
    assert not refused.value.permanent
    with pytest.raises(EffectFailed) as forbidden:
        check_answer(RoomSendError("You are not in this room.", "M_FORBIDDEN"), "send")
    assert forbidden.value.permanent
