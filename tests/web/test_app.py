"""The web app through aiohttp's test client: metrics auth, login, sessions, rate limit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict
from prometheus_client.parser import text_string_to_metric_families

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.today import DayCount
from counsel_bot.metrics import CounselMetrics
from counsel_bot.stats import StatsError, fetch_stats
from counsel_bot.web import COOKIE, WebSettings, WebSettingsError, build_web_app
from tests.web.fakes import FakeAuth, MemorySource

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD = "@lead:counsel.localhost"
PASSWORD = "correct horse battery"
TOKEN = "a-long-random-metrics-token-0123456789"


class Env:
    def __init__(self, client: TestClient[web.Request, web.Application], clock: FakeClock,
                 source: MemorySource, auth: FakeAuth, metrics: CounselMetrics) -> None:
        self.client = client
        self.clock = clock
        self.source = source
        self.auth = auth
        self.metrics = metrics

    async def login(
        self, user: str = LEAD, password: str = PASSWORD, *, via: str | None = None
    ) -> ClientResponse:
        """``via``: the client address a proxy in front forwards (X-Forwarded-For)."""
        headers = {} if via is None else {"X-Forwarded-For": via}
        return await self.client.post(
            "/login", data={"user_id": user, "password": password}, allow_redirects=False,
            headers=headers,
        )


MakeEnv = Callable[..., Awaitable[Env]]


@pytest_asyncio.fixture
async def make_env(tmp_path: Path) -> AsyncIterator[MakeEnv]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def make(*, token: bool = False, **settings: object) -> Env:
        if token:
            token_file = tmp_path / "metrics-token"
            token_file.write_text(TOKEN + "\n")
            token_file.chmod(0o600)
            settings["metrics_token_file"] = str(token_file)
        clock = FakeClock(T0)
        metrics = CounselMetrics(clock)
        source = MemorySource(clock)
        auth = FakeAuth({LEAD: PASSWORD})
        app = build_web_app(metrics, source, auth, WebSettings(**settings), clock)  # type: ignore[arg-type]
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return Env(client, clock, source, auth, metrics)

    yield make
    for client in clients:
        await client.close()


# --- /metrics ----------------------------------------------------------------------------

async def test_metrics_without_token_is_open_and_parseable(make_env: MakeEnv) -> None:
    env = await make_env()
    env.metrics.escalated()
    resp = await env.client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    assert families["counsel_escalations"].samples[0].value == 1


async def test_metrics_token_is_required_when_configured(make_env: MakeEnv) -> None:
    env = await make_env(token=True)
    assert (await env.client.get("/metrics")).status == 401
    wrong = {"Authorization": "Bearer not-the-token-at-all-0000000"}
    assert (await env.client.get("/metrics", headers=wrong)).status == 401
    basic = {"Authorization": f"Basic {TOKEN}"}
    assert (await env.client.get("/metrics", headers=basic)).status == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    resp = await env.client.get("/metrics", headers=right)
    assert resp.status == 200
    assert "counsel_queue_length" in await resp.text()


async def test_fetch_stats_reads_the_endpoint(make_env: MakeEnv) -> None:
    env = await make_env(token=True)
    env.metrics.count_today(DayCount(opened=1))
    url = str(env.client.make_url("/metrics"))
    stats = await fetch_stats(url, TOKEN)
    assert stats.today.opened == 1
    with pytest.raises(StatsError, match="bearer token"):
        await fetch_stats(url, None)


async def test_on_scrape_runs_before_each_answer() -> None:
    clock = FakeClock(T0)
    metrics = CounselMetrics(clock)
    calls: list[int] = []
    app = build_web_app(metrics, MemorySource(clock), FakeAuth({}), WebSettings(), clock,
                        on_scrape=lambda: calls.append(1))
    async with TestClient(TestServer(app)) as client:
        await client.get("/metrics")
        await client.get("/metrics")
    assert len(calls) == 2


# --- login and sessions ------------------------------------------------------------------

async def test_dashboard_requires_login(make_env: MakeEnv) -> None:
    env = await make_env()
    resp = await env.client.get("/dashboard", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/login"
    data = await env.client.get("/dashboard/data")
    assert data.status == 401
    assert env.source.calls == 0


async def test_wrong_password_is_refused(make_env: MakeEnv) -> None:
    env = await make_env()
    resp = await env.login(password="wrong")
    assert resp.status == 401
    assert "Wrong Matrix ID or password" in await resp.text()
    assert COOKIE not in resp.cookies
    assert (await env.client.get("/dashboard/data")).status == 401


async def test_malformed_user_id_never_reaches_the_homeserver(make_env: MakeEnv) -> None:
    env = await make_env()
    resp = await env.login(user="lead")
    assert resp.status == 400
    assert env.auth.checks == 0


async def test_login_sets_a_strict_session_cookie_and_shows_the_queue(make_env: MakeEnv) -> None:
    env = await make_env()
    resp = await env.login()
    assert resp.status == 303
    assert resp.headers["Location"] == "/dashboard"
    cookie = resp.headers["Set-Cookie"]
    assert re.search(rf"{COOKIE}=[A-Za-z0-9_-]{{40,}};", cookie)
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    page = await env.client.get("/dashboard")
    html = await page.text()
    assert page.status == 200
    assert 'id="queue-length">2<' in html
    assert "C-0A1B2C3D" in html
    assert "C-11223344" in html
    rows = re.findall(r"<tr>.*?</tr>", html.split('id="queue-rows"')[1].split("</tbody>")[0])
    assert ["handed back" in row for row in rows] == [False, True]
    assert "https://matrix.to/#/!abcdefgh:test.localhost" in html
    assert "anna" in html
    data = await (await env.client.get("/dashboard/data")).json()
    assert data["queue_length"] == 2
    assert [q["conversation"] for q in data["queue"]] == ["C-0A1B2C3D", "C-11223344"]


async def test_session_expires(make_env: MakeEnv) -> None:
    env = await make_env(session_seconds=3600)
    await env.login()
    env.clock.advance(timedelta(minutes=59))
    assert (await env.client.get("/dashboard/data")).status == 200
    env.clock.advance(timedelta(minutes=1))
    assert (await env.client.get("/dashboard/data")).status == 401
    resp = await env.client.get("/dashboard", allow_redirects=False)
    assert resp.status == 303


async def test_logout_ends_the_session_on_the_server(make_env: MakeEnv) -> None:
    env = await make_env()
    resp = await env.login()
    token = resp.cookies[COOKIE].value
    out = await env.client.post("/logout", allow_redirects=False)
    assert out.status == 200
    assert "signed out" in await out.text()
    # Even a client that kept the old cookie is out.
    replay = await env.client.get("/dashboard/data", cookies={COOKIE: token})
    assert replay.status == 401


async def test_login_is_rate_limited_per_address(make_env: MakeEnv) -> None:
    env = await make_env(login_attempts=3, login_window_seconds=60)
    for _ in range(3):
        assert (await env.login(password="wrong")).status == 401
    limited = await env.login()
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert env.auth.checks == 3
    env.clock.advance(timedelta(seconds=61))
    assert (await env.login()).status == 303


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(make_env: MakeEnv) -> None:
    """The test client connects from 127.0.0.1, as a TLS proxy on the same host would."""
    env = await make_env(login_attempts=2, login_window_seconds=60,
                         trusted_proxies=("127.0.0.1",))
    for _ in range(2):
        assert (await env.login(password="wrong", via="203.0.113.5")).status == 401
    assert (await env.login(via="203.0.113.5")).status == 429
    # Another lead behind the same proxy is not locked out by the first client's attempts.
    assert (await env.login(via="198.51.100.7")).status == 303
    # A client cannot escape its limit by naming itself in a header of its own: the proxy's
    # entry (the rightmost, not a trusted proxy) is the one believed.
    assert (await env.login(via="198.51.100.99, 203.0.113.5")).status == 429


async def test_a_client_cannot_escape_its_login_limit_with_its_own_forwarded_for_line(
    make_env: MakeEnv,
) -> None:
    """Behind a proxy that adds its own X-Forwarded-For line (HAProxy `option forwardfor`),
    the client's made-up first line is not its address: all lines are one list, read from
    the right."""
    env = await make_env(login_attempts=3, login_attempts_per_account=1000,
                         trusted_proxies=("127.0.0.1",))
    statuses = []
    for n in range(6):
        headers = CIMultiDict([("X-Forwarded-For", f"10.0.0.{n}"),
                               ("X-Forwarded-For", "203.0.113.5")])
        statuses.append((await env.client.post(
            "/login", data={"user_id": LEAD, "password": "wrong"}, allow_redirects=False,
            headers=headers)).status)
    assert statuses == [401, 401, 401, 429, 429, 429]


async def test_without_trusted_proxies_forwarded_headers_are_ignored(make_env: MakeEnv) -> None:
    env = await make_env(login_attempts=2, login_window_seconds=60)
    for n in range(2):
        assert (await env.login(password="wrong", via=f"203.0.113.{n}")).status == 401
    assert (await env.login(via="203.0.113.77")).status == 429


async def test_login_is_rate_limited_per_account_from_any_address(make_env: MakeEnv) -> None:
    """Failed sign-ins count per account, from whatever addresses: past the limit, an address
    that failed is refused, and fresh addresses get one allowance of the same size in the
    window, so guessing one lead's password stays under 2 x login_attempts_per_account per
    window. A right password from an address that failed nothing, where the lead signed in
    before, still gets in (tests/web/test_login_limits.py: no one can lock the lead out)."""
    env = await make_env(login_attempts=5, login_attempts_per_account=3,
                         login_window_seconds=60, trusted_proxies=("127.0.0.0/8",))
    assert (await env.login(via="198.51.100.50")).status == 303  # the lead's usual place
    env.client.session.cookie_jar.clear()
    for n in range(3):
        assert (await env.login(password="wrong", via=f"203.0.113.{n}")).status == 401
    limited = await env.login(via="203.0.113.0")  # failed already: refused, right or not
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    for n in range(100, 103):  # the allowance for clean addresses
        assert (await env.login(password="wrong", via=f"203.0.113.{n}")).status == 401
    assert (await env.login(via="203.0.113.200")).status == 429
    assert env.auth.checks == 7
    assert (await env.login(via="198.51.100.50")).status == 303
    env.client.session.cookie_jar.clear()
    # Another account from the same address may still try.
    assert (await env.login(user="@other:counsel.localhost", password="x",
                            via="203.0.113.200")).status == 401
    env.clock.advance(timedelta(seconds=61))
    assert (await env.login(via="203.0.113.200")).status == 303


async def test_homeserver_down_is_a_clear_503(make_env: MakeEnv) -> None:
    env = await make_env()
    env.auth.unavailable = True
    resp = await env.login()
    assert resp.status == 503
    assert "try again" in await resp.text()


async def test_pages_load_nothing_from_elsewhere(make_env: MakeEnv) -> None:
    env = await make_env()
    login_page = await (await env.client.get("/login")).text()
    await env.login()
    dashboard = await env.client.get("/dashboard")
    html = await dashboard.text()
    assert "default-src 'none'" in dashboard.headers["Content-Security-Policy"]
    assert dashboard.headers["Cache-Control"] == "no-store"
    for page in (login_page, html):
        links = re.findall(r'(?:src|href)="([^"]+)"', page)
        external = [u for u in links if not u.startswith(("/", "#", "https://matrix.to/#/"))]
        assert external == []
        assert "<table" in page or "<form" in page
    for path, kind in (("/static/dashboard.css", "text/css"), ("/static/dashboard.js",
                                                               "text/javascript")):
        resp = await env.client.get(path)
        assert resp.status == 200
        assert resp.content_type == kind
        assert "http://" not in await resp.text()
        assert "https://" not in await resp.text()


async def test_accessible_markup(make_env: MakeEnv) -> None:
    env = await make_env()
    await env.login()
    html = await (await env.client.get("/dashboard")).text()
    assert '<html lang="en">' in html
    for landmark in ("<header", "<main", "<nav", "<footer"):
        assert landmark in html
    assert html.count("<caption>") == 3
    assert html.count('<th scope="col">') >= 13
    # Severity is written out with a shape, not only a colour.
    assert re.search(r'class="badge sev-high"><span aria-hidden="true">▲▲▲</span> high', html)


async def test_data_is_escaped(make_env: MakeEnv) -> None:
    from dataclasses import replace

    from counsel_bot.web import StaffEntry

    env = await make_env()
    env.source.current = replace(env.source.current, staff=(StaffEntry("<b>x</b>", 0, 1),))
    await env.login()
    html = await (await env.client.get("/dashboard")).text()
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


# --- settings ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "bad",
    [
        {"bind_address": "localhost"},
        {"port": 0},
        {"port": 70000},
        {"dashboard_refresh_seconds": 0},
        {"session_seconds": 10},
        {"login_attempts": 0},
        {"login_attempts_per_account": 0},
        {"trusted_proxies": ("proxy.example",)},
    ],
)
def test_settings_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(WebSettingsError):
        WebSettings(**bad)  # type: ignore[arg-type]


def test_token_file_must_exist_and_be_long(tmp_path: Path) -> None:
    with pytest.raises(WebSettingsError, match="cannot read"):
        WebSettings(metrics_token_file=str(tmp_path / "missing")).metrics_token()
    short = tmp_path / "short"
    short.write_text("abc")
    short.chmod(0o600)
    with pytest.raises(WebSettingsError, match="shorter than 16"):
        WebSettings(metrics_token_file=str(short)).metrics_token()


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    """Every other secret file (the vault passphrase, the store, SMTP and Jitsi passwords)
    is refused when other users of the host can read it; the metrics token was read from a
    file of any mode, so any local account could take it and read, through the TLS proxy,
    the figures and counsellor nicknames it guards."""
    token = tmp_path / "metrics.token"
    token.write_text("t" * 32)
    token.chmod(0o644)
    with pytest.raises(WebSettingsError, match=f"metrics_token_file: {token} can be read.*"
                                               f"chmod 600 {token}"):
        WebSettings(metrics_token_file=str(token)).metrics_token()
    token.chmod(0o600)
    assert WebSettings(metrics_token_file=str(token)).metrics_token() == "t" * 32


def test_counsellor_label_must_match_the_metrics() -> None:
    clock = FakeClock(T0)
    with pytest.raises(WebSettingsError, match="counsellor_label"):
        build_web_app(CounselMetrics(clock, counsellor_label=False), MemorySource(clock),
                      FakeAuth({}), WebSettings(counsellor_label=True), clock)


@pytest.mark.parametrize(("headers", "secure"), [
    ({"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}, True),
    ({"X-Forwarded-For": "198.51.100.7", "Forwarded": "for=198.51.100.7;proto=https"}, True),
    ({"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "http"}, False),
])
async def test_behind_a_trusted_tls_proxy_the_session_cookie_is_secure(
        make_env: MakeEnv, headers: dict[str, str], secure: bool) -> None:
    # The README puts the dashboard behind a TLS proxy; an admin who forgot cookie_secure
    # must not have the session cookie sent in clear by a browser that follows an http link.
    env = await make_env(trusted_proxies=("127.0.0.1",))
    resp = await env.client.post("/login", data={"user_id": LEAD, "password": PASSWORD},
                                 allow_redirects=False, headers=headers)
    assert resp.status == 303
    assert ("Secure" in resp.headers["Set-Cookie"]) is secure


async def test_an_untrusted_peer_cannot_claim_tls_for_it(make_env: MakeEnv) -> None:
    env = await make_env()
    resp = await env.client.post("/login", data={"user_id": LEAD, "password": PASSWORD},
                                 allow_redirects=False, headers={"X-Forwarded-Proto": "https"})
    assert resp.status == 303
    assert "Secure" not in resp.headers["Set-Cookie"]
