"""The entry page in headless Chromium against the real Synapse.

Both languages render and pass axe-core (no serious or critical violations); the button
yields a token that registers an account on Synapse; past the limit the friendly message
appears. Screenshots at phone width land in test-artifacts/.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from counsel_bot.core.clock import SystemClock
from homeserver_bridge.entry_page import (
    EntryPageContent,
    EntryPageSettings,
    RunningEntryPage,
    serve_entry_page,
)
from homeserver_bridge.entry_page.texts import ENGLISH, GERMAN, Texts
from tests.conftest import free_port
from tests.support.matrix_http import MatrixHttp

if TYPE_CHECKING:
    from tests.conftest import SynapseHandle

pytestmark = pytest.mark.integration

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
PER_ADDRESS = 2


@pytest_asyncio.fixture(loop_scope="session")
async def entry_page(synapse: SynapseHandle) -> AsyncIterator[RunningEntryPage]:
    content = EntryPageContent(
        homeserver_url=synapse.base_url,
        server_name=synapse.server_name,
        bot_user_id=f"@beratung:{synapse.server_name}",
        registration="token",
        opening_hours={"de": ["Mo–Fr 14:00–20:00"], "en": ["Mon–Fri 2 pm – 8 pm"]},
        office_name="Jugendberatung Beispielstadt",
    )
    settings = EntryPageSettings(port=free_port(), token_limit_per_address_per_hour=PER_ADDRESS)
    running = await serve_entry_page(content, settings, synapse.admin, SystemClock())
    yield running
    await running.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def phone(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=True)
    page = await context.new_page()
    yield page
    await context.close()


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    # Injected through the DevTools protocol: the page's CSP rightly refuses inline scripts.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        """async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
            const report = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
            return report.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')),
            }));
        }"""
    )
    return list(result)


@pytest.mark.parametrize(("path", "lang", "texts"), [("/", "de", GERMAN), ("/en/", "en", ENGLISH)])
async def test_the_page_renders_accessibly_in_both_languages(
    entry_page: RunningEntryPage, phone: Any, artifacts_dir: Path,
    path: str, lang: str, texts: Texts,
) -> None:
    csp_errors: list[str] = []
    phone.on("console", lambda m: csp_errors.append(m.text) if m.type == "error" else None)
    response = await phone.goto(entry_page.url.rstrip("/") + path)
    assert response.status == 200
    assert await phone.get_attribute("html", "lang") == lang
    assert await phone.get_by_role("heading", level=1).inner_text() == texts.headline
    await phone.get_by_role("button", name=texts.code_button).wait_for()
    assert await phone.locator("img[src='/qr.svg']").evaluate("img => img.naturalWidth") > 0
    # The stylesheet applied (served here, allowed by the CSP): the button is the brand colour.
    colour = await phone.get_by_role("button").evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(31, 95, 168)"
    # Nothing overflows sideways on a phone.
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The first Tab lands on the skip link.
    await phone.keyboard.press("Tab")
    assert await phone.evaluate("document.activeElement.className") == "skip"
    await phone.keyboard.press("Shift+Tab")

    await phone.screenshot(path=str(artifacts_dir / f"entry-page-{lang}.png"), full_page=True)
    violations = await axe_violations(phone)
    (artifacts_dir / f"entry-page-axe-{lang}.json").write_text(
        json.dumps(violations, indent=2), encoding="utf-8"
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)
    assert csp_errors == []


async def test_the_button_gives_a_token_that_registers_on_synapse_until_the_limit(
    entry_page: RunningEntryPage, phone: Any, synapse: SynapseHandle, artifacts_dir: Path
) -> None:
    await phone.goto(entry_page.url)
    # Keyboard only: focus the button and press Enter.
    await phone.get_by_role("button", name=GERMAN.code_button).focus()
    async with phone.expect_navigation():
        await phone.keyboard.press("Enter")
    assert phone.url.endswith("/token#code")
    token = (await phone.locator(".token code").inner_text()).strip()
    assert token
    await phone.screenshot(path=str(artifacts_dir / "entry-page-token-de.png"), full_page=True)

    # A reload re-submits the same press: same token, no second one.
    async with phone.expect_navigation():
        await phone.reload()
    assert (await phone.locator(".token code").inner_text()).strip() == token

    nickname = f"sunflower-{secrets.token_hex(3)}"
    registered = await register_with_token(synapse, nickname, token)
    assert registered == f"@{nickname}:{synapse.server_name}"
    [spent] = [t for t in await synapse.admin.list_registration_tokens() if t.token == token]
    assert (spent.uses_allowed, spent.completed) == (1, 1)
    assert spent.expiry_time_ms is not None

    # Second press in English is still within the limit; the third is not.
    await phone.goto(entry_page.url + "en/")
    async with phone.expect_navigation():
        await phone.get_by_role("button", name=ENGLISH.code_button).click()
    assert (await phone.locator(".token code").inner_text()).strip() not in ("", token)
    response_status: list[int] = []
    phone.on("response", lambda r: response_status.append(r.status) if "/token" in r.url else None)
    await phone.goto(entry_page.url + "en/")
    async with phone.expect_navigation():
        await phone.get_by_role("button", name=ENGLISH.code_button).click()
    message = phone.get_by_role("alert")
    assert "You already got several codes" in await message.inner_text()
    assert response_status == [429]
    assert await phone.get_by_role("button").count() == 0
    await phone.screenshot(path=str(artifacts_dir / "entry-page-limit-en.png"), full_page=True)
    violations = await axe_violations(phone)
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []


async def register_with_token(synapse: SynapseHandle, nickname: str, token: str) -> str:
    anonymous = MatrixHttp(synapse.http, synapse.base_url)
    body = {"username": nickname, "password": "a long passphrase 42"}
    status, flows = await anonymous.call("POST", "/_matrix/client/v3/register", body)
    assert status == 401, flows
    auth = {"type": "m.login.registration_token", "token": token, "session": flows["session"]}
    status, answer = await anonymous.call(
        "POST", "/_matrix/client/v3/register", {**body, "auth": auth}
    )
    if status == 401:  # Synapse may ask for the dummy stage after the token stage.
        auth = {"type": "m.login.dummy", "session": flows["session"]}
        status, answer = await anonymous.call(
            "POST", "/_matrix/client/v3/register", {**body, "auth": auth}
        )
    assert status == 200, answer
    return str(answer["user_id"])
