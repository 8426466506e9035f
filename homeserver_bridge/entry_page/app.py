"""The entry page over HTTP (aiohttp): routes, security headers, serving and stopping.

Nothing here logs a request: the access log is off and no handler logs a client address.
No cookies are set; everything the page needs is served from here.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

from aiohttp import web

from homeserver_bridge.entry_page.client_key import client_address, limit_key, parse_networks
from homeserver_bridge.entry_page.content import EntryPageContent, EntryPageSettings, Lang
from homeserver_bridge.entry_page.http_guard import read_form, same_site_posts
from homeserver_bridge.entry_page.issuer import TokenIssuer, TokenSource
from homeserver_bridge.entry_page.render import (
    Failed,
    Issued,
    Limited,
    Offer,
    PageRenderer,
    SignupState,
    qr_svg,
)
from homeserver_bridge.entry_page.texts import texts_for
from homeserver_bridge.errors import BridgeError
from homeserver_bridge.rate_limit import Clock, Rate, RateLimiter

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    # Not no-referrer: with it the browser sends "Origin: null" on the form, and the check of
    # where a POST comes from (same_site_posts) could not tell it from another site's.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
_STATIC = {"style.css": "text/css", "icon.svg": "image/svg+xml"}
_HTML = "text/html"
# Seconds a youth is asked to wait after the homeserver failed to make a token.
_RETRY_AFTER_FAILURE = 30


class EntryPageError(BridgeError):
    """The entry page could not be served."""


class _EntryPage:
    def __init__(
        self,
        content: EntryPageContent,
        settings: EntryPageSettings,
        source: TokenSource,
        clock: Clock,
        on_duty: Callable[[], Mapping[str, bool]] | None = None,
    ) -> None:
        self._renderer = PageRenderer(content, settings.token_ttl_hours)
        self._on_duty = on_duty
        limiter = RateLimiter(
            Rate.per_hour(settings.token_limit_per_address_per_hour),
            Rate.per_hour(settings.token_limit_global_per_hour),
            clock,
        )
        ttl = timedelta(hours=settings.token_ttl_hours)
        self._issuer = TokenIssuer(source, limiter, clock, ttl)
        self._trusted = parse_networks(settings.trusted_proxies)
        # Lives only in memory: limiter keys cannot be turned back into addresses.
        self._key_secret = secrets.token_bytes(32)
        self._qr = qr_svg(content.chat_link, texts_for("de").step3_qr_alt)
        folder = resources.files(__package__).joinpath("static")
        self._static = {name: folder.joinpath(name).read_bytes() for name in _STATIC}

    async def page(self, request: web.Request) -> web.Response:
        lang: Lang = "en" if request.query.get("lang") == "en" else "de"
        return self._html(lang, Offer(_new_press()))

    async def english(self, request: web.Request) -> web.Response:
        return self._html("en", Offer(_new_press()))

    async def german(self, request: web.Request) -> web.Response:
        return self._html("de", Offer(_new_press()))

    async def token(self, request: web.Request) -> web.Response:
        form = await read_form(request)
        lang: Lang = "en" if form.get("lang") == "en" else "de"
        press = form.get("press")
        address = client_address(
            request.remote, request.headers.getall("X-Forwarded-For", ()), self._trusted
        )
        outcome = await self._issuer.issue(
            limit_key(address, self._key_secret), press if isinstance(press, str) else None
        )
        match outcome:
            case None:
                return self._html(lang, Offer(_new_press()), status=400)
            case Issued():
                return self._html(lang, outcome)
            case Limited(_, retry_after):
                seconds = max(1, int(retry_after.total_seconds()))
                return self._html(lang, outcome, status=429, retry_after=seconds)
            case Failed():
                return self._html(lang, outcome, status=503, retry_after=_RETRY_AFTER_FAILURE)

    async def qr(self, request: web.Request) -> web.Response:
        return web.Response(body=self._qr, content_type="image/svg+xml")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._static:
            raise web.HTTPNotFound()
        response = web.Response(body=self._static[name], content_type=_STATIC[name])
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    def _html(
        self, lang: Lang, state: SignupState, *, status: int = 200, retry_after: int | None = None
    ) -> web.Response:
        response = web.Response(
            text=self._renderer.render(lang, state, self._on_duty() if self._on_duty else None),
            status=status, content_type=_HTML
        )
        # A page may carry a registration token: no copy in any cache.
        response.headers["Cache-Control"] = "no-store"
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response


def build_entry_app(
    content: EntryPageContent,
    settings: EntryPageSettings,
    admin: TokenSource,
    clock: Clock,
    on_duty: Callable[[], Mapping[str, bool]] | None = None,
) -> web.Application:
    """The entry page as an aiohttp application; ``admin`` is an ``AdminClient``.
    ``on_duty`` (several offices): office id -> whether someone is on duty now."""
    page = _EntryPage(content, settings, admin, clock, on_duty)
    # The only form has two short fields.
    app = web.Application(client_max_size=4096,
                          middlewares=[same_site_posts(parse_networks(settings.trusted_proxies))])
    app.router.add_get("/", page.page)
    app.router.add_get("/de/", page.german)
    app.router.add_get("/en/", page.english)
    app.router.add_get("/de", _redirect("/de/"))
    app.router.add_get("/en", _redirect("/en/"))
    app.router.add_get("/qr.svg", page.qr)
    app.router.add_get("/static/{name}", page.static)
    if content.registration == "token":
        app.router.add_post("/token", page.token)
        app.router.add_get("/token", _redirect("/"))
    app.on_response_prepare.append(_security_headers)
    return app


@dataclass
class RunningEntryPage:
    url: str
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve_entry_page(
    content: EntryPageContent,
    settings: EntryPageSettings,
    admin: TokenSource,
    clock: Clock,
    on_duty: Callable[[], Mapping[str, bool]] | None = None,
) -> RunningEntryPage:
    """Listen on ``settings.bind_address:port`` until ``stop()``; the access log stays off."""
    app = build_entry_app(content, settings, admin, clock, on_duty)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.bind_address, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise EntryPageError(
            f"the entry page cannot listen on {settings.bind_address} port {settings.port} "
            f"({exc.strerror}); choose another port for the entry page"
        ) from None
    return RunningEntryPage(settings.url, runner)


def _redirect(location: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(location)

    return handler


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    # No software versions for scanners to match against.
    response.headers["Server"] = "counsel"
    response.headers.setdefault("Cache-Control", "no-store")


def _new_press() -> str:
    return secrets.token_urlsafe(18)
