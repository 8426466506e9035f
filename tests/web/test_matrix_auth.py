"""MatrixPasswordAuth against the real Synapse: leads get in, others do not, no device stays."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from counsel_bot.core.clock import SystemClock
from counsel_bot.metrics import CounselMetrics
from counsel_bot.web import AuthUnavailableError, MatrixPasswordAuth, WebSettings, build_web_app
from tests.conftest import SynapseHandle, TestUser, UserFactory, free_port
from tests.web.fakes import MemorySource

pytestmark = pytest.mark.integration


async def devices(synapse: SynapseHandle, user: TestUser) -> list[str]:
    async with synapse.http.get(
        f"{synapse.base_url}/_matrix/client/v3/devices",
        headers={"Authorization": f"Bearer {user.access_token}"},
    ) as resp:
        assert resp.status == 200
        body: Any = await resp.json()
    return sorted(d["device_id"] for d in body["devices"])


async def test_team_lead_passes_and_nobody_else(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    lead = await user_factory("lead")
    counsellor = await user_factory("counsellor")
    auth = MatrixPasswordAuth(synapse.base_url, frozenset({lead.user_id}), synapse.http)

    assert await auth.check(lead.user_id, lead.password) is True
    assert await auth.check(lead.user_id, lead.password + "x") is False
    assert await auth.check(counsellor.user_id, counsellor.password) is False
    assert await auth.check(lead.localpart, lead.password) is False
    # The throwaway login was logged out again: only the device from registration is left.
    assert await devices(synapse, lead) == [lead.device_id]


async def test_dashboard_login_with_the_real_homeserver(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    lead = await user_factory("lead")
    clock = SystemClock()
    auth = MatrixPasswordAuth(synapse.base_url, frozenset({lead.user_id}), synapse.http)
    app = build_web_app(CounselMetrics(clock), MemorySource(clock), auth, WebSettings(), clock)
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/login", data={"user_id": lead.user_id,
                                                 "password": lead.password},
                                 allow_redirects=False)
        assert resp.status == 303
        assert (await client.get("/dashboard/data")).status == 200
    assert await devices(synapse, lead) == [lead.device_id]


async def test_unreachable_homeserver_is_a_clear_error() -> None:
    lead = "@lead:counsel.localhost"
    async with aiohttp.ClientSession() as http:
        auth = MatrixPasswordAuth(f"http://127.0.0.1:{free_port()}", frozenset({lead}), http)
        with pytest.raises(AuthUnavailableError, match="cannot be reached"):
            await auth.check(lead, "password")
