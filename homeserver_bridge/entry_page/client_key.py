"""Which client a request comes from, as an opaque key for the rate limiter.

The peer address is the client unless the peer is a configured reverse proxy; only then is
X-Forwarded-For read, from the right, skipping proxies we trust (the left part is whatever
the client chose to send). Several X-Forwarded-For lines are one comma list (RFC 9110 5.3):
a proxy that adds its own line after the client's (HAProxy's `option forwardfor`) must win,
so callers pass every line, in order. A hop may carry a port ("203.0.113.7:51234",
"[2001:db8::1]:51234", as Azure Application Gateway and IIS ARR write it): the port is
dropped, or every connection would be a new client. IPv6 clients are keyed by their /56:
ISPs hand a household (or a cheap server) a /56 (RIPE-690's advice for homes; 256 /64s),
so keying by /64 gave one connection 256 allowances and 20 of them the whole global budget.
A mobile carrier's neighbouring /64s may be other people sharing one /56 allowance; that
costs a youth a wait, whereas /64 let one person stop every youth's sign-up. The key is an
HMAC of the address under a key that lives only in memory, so the limiter never holds an
address a person could read back.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPV6_PREFIX = 56
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_address(
    peer: str | None, forwarded_for: str | Sequence[str] | None, trusted: tuple[Network, ...]
) -> str:
    """The client's address; `forwarded_for` is the X-Forwarded-For value, or all its lines
    (``request.headers.getall``)."""
    if peer is None:
        return "unknown"
    joined = forwarded_for if isinstance(forwarded_for, str) else ", ".join(forwarded_for or ())
    if not trusted or not joined or not within(peer, trusted):
        return peer
    for hop in reversed([part.strip() for part in joined.split(",")]):
        if hop and not within(hop, trusted):
            parsed = _hop_address(hop)
            return hop if parsed is None else str(parsed)
    return peer


def limit_key(address: str, secret: bytes) -> str:
    return hmac.new(secret, _group(address).encode("utf-8"), hashlib.sha256).hexdigest()


def _group(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, _IPV6_PREFIX), strict=False))
    return str(parsed)


def _hop_address(hop: str) -> Address | None:
    """The address of one forwarded hop, with or without a port; None if it is none."""
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        pass
    host, sep, port = hop.rpartition(":")
    if not sep or not port.isdigit():
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:  # a bare IPv6 address has colons of its own; a port needs brackets
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def within(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether `address` (a hop, a port allowed) is in one of `networks`."""
    parsed = _hop_address(address)
    return parsed is not None and any(parsed in network for network in networks)
