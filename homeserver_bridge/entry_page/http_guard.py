"""What the entry page and the team-lead dashboard both guard in aiohttp: forms that cannot
be read, and form POSTs sent from other sites (request_origin). Nothing here logs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import MultiDictProxy

from homeserver_bridge.entry_page.client_key import Network, within
from homeserver_bridge.entry_page.request_origin import from_own_site

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_NOT_READABLE = "The form could not be read. Reload the page and send it again.\n"
_OTHER_SITE = ("This form was sent from another page than this site's own. Open this site's "
               "page and send it from there.\n")


async def read_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The posted form; a charset Python does not know, or bytes not in it, is a 400 (not a
    crash, which aiohttp would log with the client's address)."""
    try:
        return await request.post()
    except (LookupError, UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text=_NOT_READABLE) from None


def own_host(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """The host and port the browser addressed: Host, or the rightmost X-Forwarded-Host a
    trusted proxy passed on (a proxy that rewrites Host to its upstream)."""
    forwarded = ", ".join(request.headers.getall("X-Forwarded-Host", ()))
    if forwarded and request.remote is not None and within(request.remote, trusted):
        return forwarded.split(",")[-1].strip()
    return request.host


def same_site_posts(trusted: tuple[Network, ...]) -> Middleware:
    """Refuses (403) a POST whose Origin, Referer or Sec-Fetch-Site says another site."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and not from_own_site(
            own_host(request, trusted), request.headers.get("Origin"),
            request.headers.get("Referer"), request.headers.get("Sec-Fetch-Site"),
        ):
            raise web.HTTPForbidden(text=_OTHER_SITE)
        return await handler(request)

    return guard
