"""Which client a request comes from: the peer, unless the peer is a trusted proxy; then
the rightmost hop of X-Forwarded-For (all its lines, one list) that is not a trusted proxy,
with any port the proxy wrote dropped."""

from __future__ import annotations

from homeserver_bridge.entry_page.client_key import client_address, limit_key, parse_networks

SECRET = b"k" * 32
PROXY = parse_networks(("10.0.0.0/8",))


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"
    assert client_address("203.0.113.9", "198.51.100.1", PROXY) == "203.0.113.9"
    assert client_address("10.0.0.2", "198.51.100.1", PROXY) == "198.51.100.1"


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client may send its own X-Forwarded-For; only what our proxies appended counts.
    forged = "1.2.3.4, 198.51.100.1, 10.0.0.7"
    assert client_address("10.0.0.2", forged, PROXY) == "198.51.100.1"
    assert client_address("10.0.0.2", "10.0.0.3", PROXY) == "10.0.0.2"
    assert client_address(None, "198.51.100.1", PROXY) == "unknown"


def test_several_forwarded_for_lines_are_one_list() -> None:
    """A proxy that adds its own line after the client's (HAProxy `option forwardfor`): the
    proxy's line, last, names the client; the client's own first line is not believed."""
    lines = ["1.2.3.4", "198.51.100.1"]
    assert client_address("10.0.0.2", lines, PROXY) == "198.51.100.1"
    assert client_address("10.0.0.2", ["1.2.3.4, 10.0.0.9", "10.0.0.7"], PROXY) == "1.2.3.4"
    assert client_address("10.0.0.2", [], PROXY) == "10.0.0.2"


def test_forwarded_for_hops_with_a_port_are_one_client() -> None:
    """Proxies that write the client's source port (Azure Application Gateway, IIS ARR:
    "203.0.113.7:51234") must not make every connection a new client."""
    trusted = parse_networks(("127.0.0.1",))
    first = client_address("127.0.0.1", "203.0.113.7:51234", trusted)
    second = client_address("127.0.0.1", "203.0.113.7:51235", trusted)
    assert first == second == "203.0.113.7"
    assert client_address("127.0.0.1", "[2001:db8::1]:443", trusted) == "2001:db8::1"
    assert client_address("127.0.0.1", "2001:db8::1", trusted) == "2001:db8::1"
    # A trusted proxy's hop with a port is still skipped.
    assert client_address("10.0.0.2", "198.51.100.1, 10.0.0.7:8080", PROXY) == "198.51.100.1"


def test_an_ipv6_household_is_one_client() -> None:
    """ISPs give a household a /56 (256 /64s): all of it is one client."""
    a = limit_key("2001:db8:1:2::1", SECRET)
    b = limit_key("2001:db8:1:2:ffff::9", SECRET)
    c = limit_key("2001:db8:1:ff::1", SECRET)  # another /64 of the same /56
    d = limit_key("2001:db8:1:100::1", SECRET)  # the next /56
    assert a == b == c != d
    assert limit_key("::ffff:192.0.2.1", SECRET) == limit_key("192.0.2.1", SECRET)


def test_keys_do_not_show_the_address() -> None:
    key = limit_key("192.0.2.1", SECRET)
    assert "192.0.2.1" not in key
    assert len(key) == 64
    assert key != limit_key("192.0.2.1", b"o" * 32)
