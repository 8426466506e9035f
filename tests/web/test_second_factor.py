"""Two-factor sign-in: TOTP codes on an injected time, recovery codes, and the web flow.

Each TOTP step and each recovery code signs in once, also when two sign-ins with it arrive
together (someone who watches or proxies the lead's password and code does not get in
beside them). Someone who has the password cannot guess six-digit codes for long: after 100
wrong codes in a day (NIST SP 800-63B 5.2.2's ceiling) they are refused for the account,
while the lead's recovery codes still sign in."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from counsel_bot.core.clock import FakeClock
from counsel_bot.metrics import CounselMetrics
from counsel_bot.store import MemoryStore
from counsel_bot.web import WebSettings, WebSettingsError, build_web_app
from counsel_bot.web import second_factor as sf
from tests.store.conftest import AeadSealer
from tests.web.browsers import MakeEnv, enrol, login
from tests.web.fakes import FakeAuth, MemorySource

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD = "@lead:counsel.localhost"
PASSWORD = "correct horse battery"


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def test_a_code_counts_now_and_one_step_either_side_and_only_once() -> None:
    secret = sf.new_secret()
    enrolment = sf.enrol(secret, ["aaaa-bbbb-cc"])
    assert sf.verify(enrolment, code_at(secret, T0 - timedelta(seconds=90)), T0) is None
    later = sf.verify(enrolment, code_at(secret, T0 - timedelta(seconds=30)), T0)
    assert later is not None
    again = sf.verify(later, code_at(secret, T0 - timedelta(seconds=30)), T0)
    assert again is None  # replayed
    assert sf.verify(later, code_at(secret, T0), T0) is not None
    assert sf.verify(enrolment, "12345", T0) is None
    assert sf.verify(enrolment, "", T0) is None


@pytest.mark.parametrize("digits", [
    "０１２３４５６７８９",  # full-width, as a Japanese or Chinese keyboard types them
    "٠١٢٣٤٥٦٧٨٩",  # an Arabic keyboard's
])
def test_a_code_typed_in_other_digits_counts(digits: str) -> None:
    """A lead whose keyboard typed the authenticator's code in its own digits got "wrong
    code" every time (the code looked like one, and never matched), and was locked out
    after a few tries."""
    secret = sf.new_secret()
    code = code_at(secret, T0)
    typed = code.translate(str.maketrans("0123456789", digits))
    assert sf.code_matches(secret, typed, T0) is not None


def test_recovery_codes_are_hashed_and_work_once() -> None:
    codes = sf.new_recovery_codes()
    assert len(set(codes)) == sf.RECOVERY_CODES
    enrolment = sf.enrol(sf.new_secret(), codes)
    assert not any(code in enrolment.encode().decode() for code in codes)
    used = sf.verify(enrolment, codes[3].upper().replace("-", " "), T0)
    assert used is not None
    assert len(used.recovery_hashes) == sf.RECOVERY_CODES - 1
    assert sf.verify(used, codes[3], T0) is None
    assert sf.Enrolment.decode(used.encode()) == used


def test_the_qr_code_is_inline_svg_without_inline_style() -> None:
    svg = sf.qr_svg(sf.provisioning_uri(sf.new_secret(), LEAD))
    assert svg.startswith("<svg")
    assert "style=" not in svg


class Env:
    def __init__(self, client: TestClient[web.Request, web.Application], clock: FakeClock,
                 store: MemoryStore) -> None:
        self.client, self.clock, self.store = client, clock, store

    async def login(self, code: str = "") -> web.Response:
        return await self.client.post(  # type: ignore[return-value]
            "/login", data={"user_id": LEAD, "password": PASSWORD, "code": code},
            allow_redirects=False)


@pytest_asyncio.fixture
async def env() -> AsyncIterator[Env]:
    clock = FakeClock(T0)
    store = MemoryStore(AeadSealer())
    app = build_web_app(CounselMetrics(clock), MemorySource(clock), FakeAuth({LEAD: PASSWORD}),
                        WebSettings(require_totp=True, login_attempts=100), clock,
                        second_factor=sf.StoreSecondFactors(store))
    client = TestClient(TestServer(app))
    await client.start_server()
    yield Env(client, clock, store)
    await client.close()


async def test_required_totp_enrol_then_a_login_without_the_code_is_refused(env: Env) -> None:
    # The password alone opens only the enrolment page, not the dashboard.
    answer = await env.login()
    assert answer.status == 303
    assert answer.headers["Location"] == "/totp"
    assert (await env.client.get("/dashboard", allow_redirects=False)).status == 303
    assert (await env.client.get("/dashboard/data")).status == 401

    page = await (await env.client.get("/totp")).text()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret is not None
    assert "<svg" in page
    wrong = await env.client.post("/totp", data={"code": "000000"})
    assert wrong.status == 400
    done = await env.client.post("/totp", data={"code": code_at(secret[1], T0)})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", await done.text())
    assert len(codes) == sf.RECOVERY_CODES
    assert (await env.client.get("/dashboard/data")).status == 200
    stored = await env.store.get_sealed_setting(f"totp:{LEAD}")
    assert stored is not None
    assert secret[1].encode() in stored  # sealed at rest; opened by the store here
    assert not any(code.encode() in stored for code in codes)

    # A new sign-in: without the code refused, with it (a later step) admitted.
    await env.client.post("/logout")
    env.client.session.cookie_jar.clear()
    refused = await env.login()
    assert refused.status == 401
    assert "two-factor code" in await refused.text()
    assert (await env.client.get("/dashboard/data")).status == 401
    env.clock.advance(timedelta(seconds=60))
    assert (await env.login("123456")).status == 401
    admitted = await env.login(code_at(secret[1], env.clock.now()))
    assert admitted.headers["Location"] == "/dashboard"
    assert (await env.client.get("/dashboard/data")).status == 200

    # A recovery code signs in once.
    env.client.session.cookie_jar.clear()
    assert (await env.login(codes[0])).headers["Location"] == "/dashboard"
    env.client.session.cookie_jar.clear()
    assert (await env.login(codes[0])).status == 401


def test_required_totp_needs_somewhere_to_keep_enrolments() -> None:
    clock = FakeClock(T0)
    with pytest.raises(WebSettingsError, match="require_totp"):
        build_web_app(CounselMetrics(clock), MemorySource(clock), FakeAuth({LEAD: PASSWORD}),
                      WebSettings(require_totp=True), clock)


async def test_one_totp_code_signs_in_once_even_in_concurrent_sign_ins(
    browsers: MakeEnv,
) -> None:
    """The enrolment is loaded, checked and saved with awaits in between (aiosqlite hops to
    its thread); the store's gate makes two loads overlap wherever the app allows it."""
    env = await browsers(login_attempts=100)
    first = await env.client()
    assert (await login(first)).status == 303
    secret, _codes = await enrol(first, env.clock)
    env.clock.advance(timedelta(minutes=1))
    code = pyotp.TOTP(secret).at(env.clock.now())
    a, b = await env.client(), await env.client()
    env.store.gate = asyncio.Barrier(2)
    answers = await asyncio.gather(login(a, code=code), login(b, code=code))
    assert sorted(r.status for r in answers) == [303, 401]


async def test_a_recovery_code_works_once_even_in_concurrent_sign_ins(
    browsers: MakeEnv,
) -> None:
    env = await browsers(login_attempts=100)
    first = await env.client()
    assert (await login(first)).status == 303
    _secret, codes = await enrol(first, env.clock)
    a, b = await env.client(), await env.client()
    env.store.gate = asyncio.Barrier(2)
    answers = await asyncio.gather(login(a, code=codes[0]), login(b, code=codes[0]))
    assert sorted(r.status for r in answers) == [303, 401]


async def test_second_factor_guessing_with_the_password_is_stopped(browsers: MakeEnv) -> None:
    """The sliding login limits alone let 2,880 code guesses a day through (10 per 5 min),
    each with a 3 in 1,000,000 chance: 23 % a month."""
    env = await browsers(login_attempts=100)  # the attacker has a few addresses
    first = await env.client()
    assert (await login(first)).status == 303
    _secret, codes = await enrol(first, env.clock)
    attacker = await env.client()
    wrong = 0
    for _ in range(30):  # 2.5 hours at the default limits
        for _ in range(10):
            wrong += (await login(attacker, code="000000")).status == 401
        env.clock.advance(timedelta(minutes=5))
    assert wrong == 100, f"{wrong} wrong second-factor codes were checked in 2.5 hours"
    refused = await login(attacker, code="000000")
    assert refused.status == 429
    assert "recovery codes" in await refused.text()
    assert (await login(await env.client(), code=codes[0])).status == 303
    env.clock.advance(timedelta(days=1))
    assert (await login(attacker, code="000000")).status == 401  # checked again
