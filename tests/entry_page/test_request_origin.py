"""Whether a form POST came from a page of this site (request_origin): the rules a CSRF check
on the entry page and the dashboard rests on."""

from __future__ import annotations

import pytest

from homeserver_bridge.entry_page.request_origin import from_own_site

HOST = "counsel.example.org"


@pytest.mark.parametrize(("origin", "referer", "fetch_site", "own"), [
    ("https://counsel.example.org", None, None, True),
    ("https://counsel.example.org:443", None, "same-origin", True),
    ("http://counsel.example.org", None, None, True),  # the same server, whatever the scheme
    ("https://dash.counsel.example.org", None, None, False),  # a sibling: the same *site*
    ("https://counsel.example.org:8443", None, None, False),
    ("null", None, None, False),  # a no-referrer page or a sandboxed frame, unvouched
    ("null", None, "same-origin", True),
    (None, "https://counsel.example.org/de/", None, True),
    (None, "https://evil.example/counsel.example.org", None, False),
    (None, None, "cross-site", False),
    (None, None, "same-site", False),
    (None, None, "none", True),  # typed or bookmarked
    (None, None, None, True),  # no browser: nothing to forge across sites
    ("javascript:alert(1)", None, None, False),
    ("https://counsel.example.org:99999", None, None, False),
])
def test_a_post_is_from_this_site_only_by_its_own_origin(
    origin: str | None, referer: str | None, fetch_site: str | None, own: bool,
) -> None:
    assert from_own_site(HOST, origin, referer, fetch_site) is own


def test_ports_and_ipv6_hosts() -> None:
    assert from_own_site("127.0.0.1:9464", "http://127.0.0.1:9464", None, None)
    assert not from_own_site("127.0.0.1:9464", "http://127.0.0.1:8090", None, None)
    assert from_own_site("[::1]:9464", "http://[::1]:9464", None, None)
