"""Whether a state-changing request (a form POST) was sent by a page of this site. Pure.

SameSite cookies do not settle it: "site" ignores the port and the sub-domain, so the entry
page, the dashboard and any sibling app (Element web, the Synapse admin UI) are one site,
and a form injected into one of them would be sent with the others' cookies.

Rules it keeps:
1. `Sec-Fetch-Site` (sent by current browsers whatever the referrer policy) other than
   ``same-origin`` or ``none`` (typed by the user) refuses.
2. An `Origin` must name this host and port; ``null`` (a page with no-referrer, a sandboxed
   frame) refuses unless rule 1 vouched for the request.
3. Without `Origin`, a `Referer` must name this host and port.
4. A request with none of them comes from no browser (curl, a monitor) and cannot be
   forged across sites; it passes. Our own pages send `Referrer-Policy: same-origin`, so
   the browser sends their `Origin` (no-referrer would make it ``null``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

_TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})


def from_own_site(own_host: str, origin: str | None, referer: str | None,
                  fetch_site: str | None) -> bool:
    """`own_host` is the Host the browser addressed ("example.org", "127.0.0.1:9464")."""
    if fetch_site is not None and fetch_site.strip().lower() not in _TRUSTED_FETCH_SITES:
        return False
    if origin is not None:
        if origin.strip() == "null":
            return fetch_site is not None
        return _same_host(origin, own_host)
    if referer is not None:
        return _same_host(referer, own_host)
    return True


def _same_host(url: str, own_host: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc.lower()
        default = {"http": 80, "https": 443}.get(parts.scheme)
        port = parts.port
    except ValueError:
        return False
    if not netloc or default is None:
        return False
    own = own_host.strip().lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    # "example.org" and "example.org:443" are the same place for an https page.
    candidates = {netloc, host if port in (None, default) else f"{host}:{port}"}
    if port in (None, default):
        candidates.add(f"{host}:{default}")
    return own in candidates
