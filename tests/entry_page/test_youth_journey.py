"""The whole way in, as a youth who never heard of Matrix walks it, on the real Synapse with the
real bot: entry page -> token button -> sign-up with a nickname -> chat with the bot.

The youth takes the homeserver address and the bot's address from the page itself, presses the
button as a browser submits the form, and gives no e-mail address or phone number anywhere.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from counsel_bot.core.clock import SystemClock
from counsel_bot.core.ids import RoomID
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.opening_hours_text import opening_hours_lines
from homeserver_bridge.entry_page import (
    EntryPageContent,
    EntryPageSettings,
    RunningEntryPage,
    serve_entry_page,
)
from tests.conftest import SynapseHandle, free_port
from tests.support.bot_harness import BotProcess, NioYouth, provision_bot, until
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration

REGISTER = "/_matrix/client/v3/register"


@pytest_asyncio.fixture(loop_scope="session")
async def bot(synapse: SynapseHandle, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    await process.start()
    yield process
    await process.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def entry_page(synapse: SynapseHandle, bot: BotProcess) -> AsyncIterator[RunningEntryPage]:
    weekdays = {day: ["14:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    hours = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": weekdays})
    content = EntryPageContent(
        homeserver_url=synapse.base_url,
        server_name=synapse.server_name,
        bot_user_id=bot.user_id,
        registration="token",
        opening_hours=opening_hours_lines(hours),
        office_name="Jugendberatung Beispielstadt",
    )
    running = await serve_entry_page(
        content, EntryPageSettings(port=free_port()), synapse.admin, SystemClock()
    )
    yield running
    await running.stop()


async def test_a_youth_gets_from_the_entry_page_to_the_bot(
    synapse: SynapseHandle, bot: BotProcess, entry_page: RunningEntryPage, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as browser:
        page = await fetch(browser, "GET", entry_page.url)
        assert "Mo–Fr 14:00–20:00" in page
        homeserver = found(r'<p class="copy"><code>([^<]+)</code>', page)
        bot_user = found(r'href="https://matrix\.to/#/(@[^"]+)"', page)
        assert (homeserver, bot_user) == (synapse.base_url, bot.user_id)

        form = {"lang": "de", "press": found(r'name="press" value="([^"]+)"', page)}
        issued = await fetch(browser, "POST", entry_page.url + "token", form)
        token = found(r'<p class="token"><code>([^<]+)</code>', issued)

        nickname = f"sonnenblume-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(16)
        anonymous = MatrixHttp(browser, homeserver)
        user_id = await register_with_token(anonymous, nickname, password, token)
        assert user_id == f"@{nickname}:{synapse.server_name}"
        [spent] = [t for t in await synapse.admin.list_registration_tokens() if t.token == token]
        assert spent.completed == 1

    youth = await NioYouth.login(homeserver, user_id, password, tmp_path / "youth")
    youth.start()
    try:
        room = await youth.open_chat(bot_user)
        greeting = await youth.wait_for(room, bot_user, "anonym")
        assert "verschlüsselt" in greeting
        words = f"Ich weiß nicht mehr weiter mit meinen Eltern. {secrets.token_hex(4)}"
        await youth.send(room, words)
        assert bot.bot is not None
        live = bot.bot

        async def kept() -> bool:
            record = await live.store.conversation_by_room(RoomID(room))
            if record is None:
                return False
            return any(item.body.decode() == words
                       for item in await live.store.read_intake(record.conversation))

        await until(kept, within=30, what="the bot to keep the youth's words for a counsellor")
        record = await live.store.conversation_by_room(RoomID(room))
        assert record is not None
        assert record.youth_user_id == user_id

        async with aiohttp.ClientSession() as http:
            account = MatrixHttp(http, homeserver, youth.client.access_token)
            status, threepids = await account.call("GET", "/_matrix/client/v3/account/3pid")
        assert (status, threepids.get("threepids")) == (200, [])
    finally:
        await youth.close()


async def register_with_token(http: MatrixHttp, nickname: str, password: str, token: str) -> str:
    """Sign up as a Matrix app does: ask for the flows, then answer the token stage (and the
    dummy stage, if Synapse asks for it after the token). Nothing but a nickname and password."""
    body: dict[str, Any] = {"username": nickname, "password": password, "inhibit_login": True}
    status, flows = await http.call("POST", REGISTER, body)
    assert status == 401, flows
    stages = {stage for flow in flows["flows"] for stage in flow["stages"]}
    assert "m.login.registration_token" in stages
    assert not any("email" in stage or "msisdn" in stage for stage in stages)
    session = flows["session"]
    auth: dict[str, Any] = {"type": "m.login.registration_token", "token": token,
                            "session": session}
    status, answer = await http.call("POST", REGISTER, {**body, "auth": auth})
    if status == 401:
        status, answer = await http.call(
            "POST", REGISTER, {**body, "auth": {"type": "m.login.dummy", "session": session}}
        )
    assert status == 200, answer
    return str(answer["user_id"])


async def fetch(
    http: aiohttp.ClientSession, method: str, url: str, form: dict[str, str] | None = None
) -> str:
    async with http.request(method, url, data=form) as response:
        text = await response.text()
        assert response.status == 200, text
        return text


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, f"the page has nothing matching {pattern!r}"
    return html.unescape(match.group(1))
