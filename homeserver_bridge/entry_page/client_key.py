"""Which client a request comes from, as an opaque key for the rate limiter.

The peer address is the client unless the peer is a configured reverse proxy; only then is
X-Forwarded-For read, from the right, skipping proxies we trust (the left part is whatever
the client chose to send). IPv6 clients are keyed by their /64, since one household gets
a whole /64. The key is an HMAC of the address under a key that lives only in memory, so
the limiter never holds an address a person could read back.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    if peer is None:
        return "unknown"
    if not trusted or not forwarded_for or not _within(peer, trusted):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if hop and not _within(hop, trusted):
            return hop
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
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
