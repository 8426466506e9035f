"""The aiohttp application: /metrics for Prometheus, /dashboard for team leads.

Routes:
- GET  /metrics          Prometheus text; needs ``Authorization: Bearer <token>`` when a token
                         file is configured; without one it answers only requests that came
                         straight to the port (none a proxy forwarded).
- GET  /login, POST /login   the team-lead sign-in form (rate-limited per client address,
                              read through trusted proxies as on the entry page, and per
                              account).
- POST /logout           ends the session.
- GET  /totp, POST /totp  two-factor enrolment (QR code, then recovery codes shown once).
- GET  /dashboard        the page; GET /dashboard/data the JSON its script polls.
- GET  /static/...       the page's own CSS, JS and icon (no CDN, no external fonts).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web

from counsel_bot.core.clock import Clock
from counsel_bot.metrics import CONTENT_TYPE, CounselMetrics
from counsel_bot.store import StoreError
from counsel_bot.web import second_factor as sf
from counsel_bot.web.auth import AuthUnavailableError, TeamLeadAuth, looks_like_user_id
from counsel_bot.web.pages import (
    Assets,
    load_assets,
    render_dashboard,
    render_login,
    render_recovery_codes,
    render_totp_enrol,
)
from counsel_bot.web.sessions import (
    AccountGuard,
    KeyedLocks,
    LoginLimiter,
    Session,
    SessionTable,
)
from counsel_bot.web.settings import WebSettings, WebSettingsError
from counsel_bot.web.snapshot import (
    DashboardSnapshot,
    DashboardSource,
    OfficeDashboardSource,
    snapshot_to_json,
)
from homeserver_bridge.entry_page.client_key import (
    Network,
    client_address,
    limit_key,
    parse_networks,
    within,
)
from homeserver_bridge.entry_page.http_guard import read_form, same_site_posts

log = logging.getLogger(__name__)

COOKIE = "counsel_dashboard"
_HTML = "text/html"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_WRONG = ("Wrong Matrix ID or password, or this account is not a team lead. Sure of your "
          "password? Wait a minute and try again: the homeserver may be limiting sign-in "
          "attempts.")
_WRONG_CODE = ("The two-factor code is missing or wrong (or was used already). Enter the "
               "six-digit code your authenticator app shows now, or a recovery code.")
_WRONG_CURRENT = ("Two-factor sign-in is on already. To replace it, also enter a code from "
                  "your current authenticator app, or one of your recovery codes. Lost both? "
                  "Ask your administrator to remove the old setup.")
_TOO_MANY_CODES = ("Too many wrong two-factor codes were entered for this account today, so "
                   "six-digit codes are not accepted until tomorrow. Sign in with one of your "
                   "recovery codes, and change your Matrix password: someone else may know "
                   "it.")
_STORE_DOWN = ("Sign-in is not possible right now: the bot's database does not answer. Wait a "
               "minute and try again; if it lasts, tell your administrator.")
_STORE_DOWN_TOTP = ("Two-factor sign-in cannot be set up right now: the bot's database does "
                    "not answer. Wait a minute and try again; if it lasts, tell your "
                    "administrator.")
_WRONG_CODES_PER_DAY = 100
_MAX_PENDING = 1000
_MAX_FORM_BYTES = 16 * 1024

def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer, aiohttp's own too (404, 405, 413 are raised, not returned)."""
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not no-referrer: with it the browser sends "Origin: null" on our own forms, and the
    # check of where a POST comes from (same_site_posts) could not tell them from others.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # No software version for scanners to match against.
    response.headers["Server"] = "counsel"
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


class _Handlers:
    def __init__(
        self,
        metrics: CounselMetrics,
        dashboard: DashboardSource,
        auth: TeamLeadAuth,
        settings: WebSettings,
        clock: Clock,
        on_scrape: Callable[[], None] | None,
        second_factor: sf.SecondFactorStore | None = None,
    ) -> None:
        self._metrics = metrics
        self._second_factor = second_factor
        # Load, check and save of an enrolment, one at a time per account: two sign-ins
        # with the same code must not both pass. One process serves the dashboard (a
        # standby starts it only once active), and each accepted step is saved before the
        # lock is let go, so a bot taking over still refuses a code already used.
        self._enrolment_locks = KeyedLocks()
        # Secrets shown for enrolment, not yet confirmed with a code; by session token hash.
        self._pending: dict[str, str] = {}
        self._dashboard = dashboard
        self._auth = auth
        self._settings = settings
        self._clock = clock
        self._on_scrape = on_scrape
        self._token = settings.metrics_token()
        self._sessions = SessionTable(timedelta(seconds=settings.session_seconds))
        window = timedelta(seconds=settings.login_window_seconds)
        self._limiter = LoginLimiter(settings.login_attempts, window)
        self._accounts = AccountGuard(settings.login_attempts_per_account, window)
        # NIST SP 800-63B 5.2.2: at most 100 failed attempts. With three steps accepted,
        # 100 guesses a day give a 0.03 % chance; the sliding login limits alone allowed
        # 2,880 a day, 23 % a month.
        self._wrong_codes = LoginLimiter(_WRONG_CODES_PER_DAY, timedelta(days=1))
        self._trusted = parse_networks(settings.trusted_proxies)
        # Lives only in memory: limiter keys cannot be turned back into addresses or ids.
        self._key_secret = secrets.token_bytes(32)
        self._assets: Assets = load_assets()

    # --- /metrics --------------------------------------------------------------------------

    async def metrics(self, request: web.Request) -> web.Response:
        if self._token is None and _forwarded(request):
            # The dashboard's proxy makes this listener public; every office's figures and
            # the on-duty nicknames must not be one GET away for anyone.
            return _bearer_required("a token is required through a proxy: set [web] "
                                    "metrics_token_file, or scrape the bot's port directly")
        if self._token is not None and not self._bearer_ok(request):
            return _bearer_required("bearer token required")
        if self._on_scrape is not None:
            self._on_scrape()
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    def _bearer_ok(self, request: web.Request) -> bool:
        assert self._token is not None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self._token.encode())

    # --- login / logout --------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        if await self._session(request) is not None:
            return _redirect("/dashboard")
        return self._login_page()

    async def login(self, request: web.Request) -> web.StreamResponse:
        # The client as the entry page sees it: behind a trusted proxy, the address it
        # forwards (else every lead would share the proxy's one limit).
        address = client_address(
            request.remote, request.headers.getall("X-Forwarded-For", ()), self._trusted)
        client = limit_key(address, self._key_secret)
        now = self._clock.now()
        if not self._limiter.allow(client, now):
            return self._too_many(self._limiter.retry_after(client, now))
        form = await read_form(request)
        user_id = str(form.get("user_id", "")).strip()
        password = str(form.get("password", ""))
        if not looks_like_user_id(user_id):
            return self._login_page(
                "Enter your full Matrix ID, like @name:server.", user_id=user_id[:255], status=400
            )
        account = limit_key(user_id.casefold(), self._key_secret)
        wait = self._accounts.admit(account, client, now)
        if wait:
            return self._too_many(wait)
        try:
            ok = await self._auth.check(user_id, password)
        except AuthUnavailableError as exc:
            return self._login_page(f"Sign-in is not possible right now: {exc}.", status=503)
        if not ok:
            log.info("dashboard sign-in refused")
            self._accounts.failed(account, client, now)
            return self._login_page(_WRONG, user_id=user_id, status=401)
        async with self._enrolment_locks.hold(user_id):
            try:
                enrolment = await self._enrolment(user_id)
            except StoreError as exc:
                return self._store_down(exc, user_id)
            if enrolment is not None:
                code = str(form.get("code", ""))
                if self._wrong_codes.blocked(account, now) and sf.looks_like_totp(code):
                    # Someone with the password is guessing six-digit codes; the lead
                    # still has the recovery codes (50 bits each, not guessable).
                    log.warning("dashboard sign-in: six-digit codes refused after too many "
                                "wrong ones")
                    return self._login_page(_TOO_MANY_CODES, user_id=user_id, status=429)
                updated = sf.verify(enrolment, code, now) if code.strip() else None
                if updated is None:
                    log.info("dashboard sign-in refused: second factor")
                    self._accounts.failed(account, client, now)
                    self._wrong_codes.record(account, now)
                    return self._login_page(_WRONG_CODE, user_id=user_id, status=401)
                assert self._second_factor is not None
                # Spent before the lock is let go: a code is good for one sign-in only.
                try:
                    await self._second_factor.save(user_id, updated.encode())
                except StoreError as exc:
                    return self._store_down(exc, user_id)
                full, factor = True, updated.salt
            else:
                # With require_totp the password alone opens only the enrolment page.
                full, factor = not self._settings.require_totp, None
        self._accounts.succeeded(account, client)
        return self._signed_in(request, user_id, full=full, factor=factor)

    def _store_down(self, exc: StoreError, user_id: str, message: str = _STORE_DOWN
                    ) -> web.Response:
        """The password was right, but the second factor cannot be read or spent now: a
        page that says to retry, not aiohttp's bare 500."""
        log.error("dashboard sign-in: the store did not answer (%s)", type(exc).__name__)
        return self._login_page(message, user_id=user_id, status=503)

    async def _enrolment(self, user_id: str) -> sf.Enrolment | None:
        if self._second_factor is None:
            return None
        raw = await self._second_factor.load(user_id)
        return None if raw is None else sf.Enrolment.decode(raw)

    def _signed_in(self, request: web.Request, user_id: str, *, full: bool,
                   factor: str | None) -> web.StreamResponse:
        now = self._clock.now()
        token = self._sessions.create(user_id, now, full=full, factor=factor)
        response = _redirect("/dashboard" if full else "/totp")
        self._set_cookie(request, response, token,
                         now + timedelta(seconds=self._settings.session_seconds))
        return response

    def _set_cookie(self, request: web.Request, response: web.StreamResponse, token: str,
                    ends: datetime) -> None:
        seconds = max(int((ends - self._clock.now()).total_seconds()), 1)
        # Behind the TLS proxy the README asks for, Secure whether or not cookie_secure was
        # set: a browser that follows one http:// link must not send the session in clear.
        secure = self._settings.cookie_secure or request.secure or _tls_proxy(
            request, self._trusted)
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="Strict", path="/",
            secure=secure, max_age=seconds,
        )

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self._sessions.end(request.cookies.get(COOKIE))
        response = self._login_page("You are signed out.", status=200, alert=False)
        response.del_cookie(COOKIE, path="/")
        return response

    def _too_many(self, wait: int) -> web.Response:
        page = self._login_page(f"Too many sign-in attempts. Try again in {wait} seconds.",
                                status=429)
        page.headers["Retry-After"] = str(wait)
        return page

    def _login_page(
        self, message: str = "", *, user_id: str = "", status: int = 200, alert: bool = True
    ) -> web.Response:
        html = render_login(self._assets, message=message, user_id=user_id, alert=alert)
        return web.Response(text=html, status=status, content_type=_HTML, charset="utf-8")

    # --- dashboard -------------------------------------------------------------------------

    async def _session(self, request: web.Request) -> str | None:
        """The signed-in team lead, only with a full session (second factor given where
        required)."""
        session = await self._any_session(request)
        return None if session is None or not session.full else session.user_id

    async def _any_session(self, request: web.Request) -> Session | None:
        """The request's session while the second factor it was opened with is still the
        lead's: `counsel web reset-second-factor` (another process, the store only) is what
        an administrator does for a lead whose phone was stolen, and whoever holds the
        phone must not keep the dashboard for the rest of the session."""
        token = request.cookies.get(COOKIE)
        session = self._sessions.get(token, self._clock.now())
        if session is None or session.factor is None:
            return session
        try:
            enrolment = await self._enrolment(session.user_id)
        except StoreError as exc:
            # Kept: the bot's database will answer again, and a lead watching the crisis
            # flags is not thrown out meanwhile; a reset is read once it does.
            log.error("dashboard: the second factor could not be read (%s); the session "
                      "goes on", type(exc).__name__)
            return session
        if enrolment is None or enrolment.salt != session.factor:
            log.info("dashboard session ended: its second factor was removed or replaced")
            self._sessions.end(token)
            return None
        return session

    # --- two-factor enrolment --------------------------------------------------------------

    async def totp_form(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._totp_form(request)
        except StoreError as exc:
            return self._store_down(exc, "", _STORE_DOWN_TOTP)

    async def _totp_form(self, request: web.Request) -> web.StreamResponse:
        session = await self._any_session(request)
        if session is None:
            return _redirect("/login")
        if self._second_factor is None:
            return web.Response(status=404, text="two-factor sign-in is not available here\n")
        token = request.cookies.get(COOKIE, "")
        secret = self._pending.get(_pending_key(token))
        if secret is None:
            if len(self._pending) >= _MAX_PENDING:
                self._pending.clear()
            secret = self._pending[_pending_key(token)] = sf.new_secret()
        return await self._totp_page(session, secret)

    async def totp_enrol(self, request: web.Request) -> web.StreamResponse:
        """A store that does not answer changes nothing: the secret shown stays pending, so
        the same code (or the next) can be sent again."""
        try:
            return await self._totp_enrol(request)
        except StoreError as exc:
            return self._store_down(exc, "", _STORE_DOWN_TOTP)

    async def _totp_enrol(self, request: web.Request) -> web.StreamResponse:
        session = await self._any_session(request)
        if session is None:
            return _redirect("/login")
        if self._second_factor is None:
            return web.Response(status=404, text="two-factor sign-in is not available here\n")
        token = request.cookies.get(COOKIE, "")
        secret = self._pending.get(_pending_key(token))
        if secret is None:
            return _redirect("/totp")
        form = await read_form(request)
        now = self._clock.now()
        step = sf.code_matches(secret, str(form.get("code", "")), now)
        if step is None:
            return await self._totp_page(session, secret, "That code does not match. Check "
                                         "the time on your phone and enter the code shown now.",
                                         400)
        codes = sf.new_recovery_codes()
        async with self._enrolment_locks.hold(session.user_id):
            current = await self._enrolment(session.user_id)
            if current is not None:
                # A session alone (a stolen cookie, one opened before two-factor sign-in was
                # on) must not swap the lead's authenticator for someone else's, nor guess
                # its six-digit codes: they share the sign-in's daily cap of wrong ones.
                given = str(form.get("current", ""))
                account = limit_key(session.user_id.casefold(), self._key_secret)
                if self._wrong_codes.blocked(account, now) and sf.looks_like_totp(given):
                    log.warning("dashboard two-factor replacement: six-digit codes refused "
                                "after too many wrong ones")
                    return await self._totp_page(session, secret, _TOO_MANY_CODES, 429)
                spent = sf.verify(current, given, now)
                if spent is None:
                    log.info("dashboard two-factor replacement refused: current code")
                    self._wrong_codes.record(account, now)
                    return await self._totp_page(session, secret, _WRONG_CURRENT, 403)
            enrolment = sf.enrol(secret, codes)
            await self._second_factor.save(
                session.user_id, sf.Enrolment(enrolment.secret, enrolment.salt,
                                              enrolment.recovery_hashes, step).encode())
        self._pending.pop(_pending_key(token), None)
        fresh = self._sessions.rotate(token, now, factor=enrolment.salt)
        if fresh is None:  # the session ended while the code was checked
            return _redirect("/login")
        self._sessions.end_others(session.user_id, fresh)
        log.info("dashboard two-factor sign-in turned on")
        html = render_recovery_codes(self._assets, user=session.user_id, codes=codes)
        response = web.Response(text=html, content_type=_HTML, charset="utf-8")
        self._set_cookie(request, response, fresh, session.expires_at)
        return response

    async def _totp_page(self, session: Session, secret: str, message: str = "",
                         status: int = 200) -> web.Response:
        uri = sf.provisioning_uri(secret, session.user_id)
        replacing = await self._enrolment(session.user_id) is not None
        html = render_totp_enrol(self._assets, user=session.user_id, qr_svg=sf.qr_svg(uri),
                                 secret=secret, message=message,
                                 required=self._settings.require_totp, replacing=replacing)
        return web.Response(text=html, status=status, content_type=_HTML, charset="utf-8")

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        user = await self._session(request)
        if user is None:
            return _redirect("/login")
        snap = await self._snapshot_for(user)
        html = render_dashboard(
            self._assets, snapshot_to_json(snap), user=user,
            refresh_seconds=self._settings.dashboard_refresh_seconds,
            updated=snap.generated_at.strftime("%H:%M:%S UTC"),
        )
        return web.Response(text=html, content_type=_HTML, charset="utf-8")

    async def dashboard_data(self, request: web.Request) -> web.StreamResponse:
        user = await self._session(request)
        if user is None:
            return web.json_response({"error": "sign in at /login"}, status=401)
        snap = await self._snapshot_for(user)
        return web.json_response(snapshot_to_json(snap))

    async def _snapshot_for(self, user: str) -> DashboardSnapshot:
        """A source that knows offices shows each lead their own (see router_source)."""
        if isinstance(self._dashboard, OfficeDashboardSource):
            return await self._dashboard.snapshot_for(user)
        return await self._dashboard.snapshot()

    async def root(self, request: web.Request) -> web.StreamResponse:
        return _redirect("/dashboard")

    async def css(self, request: web.Request) -> web.Response:
        return web.Response(body=self._assets.css, content_type="text/css", charset="utf-8")

    async def js(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._assets.js, content_type="text/javascript", charset="utf-8"
        )

    async def icon(self, request: web.Request) -> web.Response:
        return web.Response(body=self._assets.icon, content_type="image/svg+xml")


def build_web_app(
    metrics: CounselMetrics,
    dashboard: DashboardSource,
    auth: TeamLeadAuth,
    settings: WebSettings,
    clock: Clock,
    *,
    on_scrape: Callable[[], None] | None = None,
    second_factor: sf.SecondFactorStore | None = None,
) -> web.Application:
    """The web app. `on_scrape` (optional) runs before each /metrics answer, e.g. to refresh
    the gauges from the router so wait times are current even when nothing happened."""
    if metrics.counsellor_label != settings.counsellor_label:
        raise WebSettingsError(
            "counsellor_label: the metrics were built with counsellor_label="
            f"{metrics.counsellor_label}; build CounselMetrics with the same value as the setting"
        )
    if settings.require_totp and second_factor is None:
        raise WebSettingsError(
            "require_totp: two-factor sign-in needs somewhere to keep the enrolments; build "
            "the web app with second_factor (the bot does), or set require_totp = false")
    handlers = _Handlers(metrics, dashboard, auth, settings, clock, on_scrape, second_factor)
    app = web.Application(middlewares=[same_site_posts(parse_networks(settings.trusted_proxies))],
                          client_max_size=_MAX_FORM_BYTES)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", handlers.root)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_get("/login", handlers.login_form)
    app.router.add_post("/login", handlers.login)
    app.router.add_post("/logout", handlers.logout)
    app.router.add_get("/totp", handlers.totp_form)
    app.router.add_post("/totp", handlers.totp_enrol)
    app.router.add_get("/dashboard", handlers.dashboard)
    app.router.add_get("/dashboard/data", handlers.dashboard_data)
    app.router.add_get("/static/dashboard.css", handlers.css)
    app.router.add_get("/static/dashboard.js", handlers.js)
    app.router.add_get("/static/favicon.svg", handlers.icon)
    app.router.add_get("/favicon.ico", handlers.icon)
    return app


# Headers a reverse proxy adds; a request carrying one came through a proxy, whether or not
# that proxy is in trusted_proxies (a forgotten setting must not open /metrics).
_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _forwarded(request: web.Request) -> bool:
    return any(name in request.headers for name in _FORWARDING_HEADERS)


def _tls_proxy(request: web.Request, trusted: tuple[Network, ...]) -> bool:
    """A trusted proxy says the browser reached it over TLS (X-Forwarded-Proto or the
    Forwarded header's proto); anybody else's word for it counts for nothing."""
    if request.remote is None or not within(request.remote, trusted):
        return False
    protos = [p.strip().lower() for value in request.headers.getall("X-Forwarded-Proto", ())
              for p in value.split(",")]
    forwarded = ",".join(request.headers.getall("Forwarded", ())).lower()
    return (bool(protos) and protos[-1] == "https") or "proto=https" in forwarded.replace(" ", "")


def _bearer_required(why: str) -> web.Response:
    return web.Response(status=401, text=f"{why}\n",
                        headers={"WWW-Authenticate": 'Bearer realm="counsel metrics"'})


def _pending_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_web(app: web.Application, settings: WebSettings) -> web.AppRunner:
    """Serve `app` on the configured address; call ``await runner.cleanup()`` to stop."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.bind_address, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise WebSettingsError(
            f"port: cannot listen on {settings.bind_address}:{settings.port} ({exc.strerror}); "
            "choose another web port or stop what uses it"
        ) from None
    return runner
