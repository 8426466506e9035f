"""What every answer and every form of the dashboard keep, whatever the request:

- every answer, aiohttp's own 404, 405 and 413 too, carries the security headers and names
  no software version in `Server`;
- a form that cannot be read (an unknown charset, bytes not in it) is a 400, and nothing
  logs the client's address;
- a POST (sign-in, sign-out, two-factor set-up) sent by a page of another origin is refused
  with 403: SameSite cookies do not tell the dashboard from the entry page or a sibling app
  on the same domain, so a form injected there could sign the lead out, or sign their
  browser in as someone else.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from counsel_bot.store import StoreBusyError
from tests.web.browsers import LEAD, MakeEnv, login, secret_on

_URLENCODED = "application/x-www-form-urlencoded"


async def test_error_answers_carry_the_security_headers_too(browsers: MakeEnv) -> None:
    env = await browsers()
    client = await env.client()
    answers = [
        await client.get("/no-such-page"),
        await client.put("/login"),
        await client.post("/login", data={"user_id": LEAD, "password": "x" * 20_000}),
    ]
    missing = {
        answer.status: [h for h in ("Content-Security-Policy", "X-Content-Type-Options",
                                    "X-Frame-Options", "Cache-Control")
                        if h not in answer.headers]
        for answer in answers
    }
    assert missing == {404: [], 405: [], 413: []}
    assert {answer.headers["Server"] for answer in answers} == {"counsel"}


@pytest.mark.parametrize("content_type", [f"{_URLENCODED}; charset=no-such-charset",
                                          f"{_URLENCODED}; charset=ascii"])
async def test_a_malformed_sign_in_form_is_a_400_not_a_crash(
    browsers: MakeEnv, caplog: Any, content_type: str,
) -> None:
    env = await browsers()
    client = await env.client()
    with caplog.at_level("DEBUG"):
        answer = await client.post(
            "/login", data="user_id=%40lead%3Acounsel.localhost&password=xü".encode(),
            headers={"Content-Type": content_type})
    assert answer.status == 400
    assert "could not be read" in await answer.text()
    logged = [r.getMessage() for r in caplog.records
              if r.name != "aiohttp.access" and "127.0.0.1" in r.getMessage()]
    assert logged == []  # the test server's access log is off in the bot (start_web)


async def test_state_changing_posts_check_where_they_come_from(browsers: MakeEnv) -> None:
    env = await browsers()
    client = await env.client()
    own = f"http://{client.server.host}:{client.server.port}"
    assert (await login(client, headers={"Origin": own})).status == 303
    sibling = {"Origin": "http://127.0.0.1:8090"}  # the entry page, same site
    for path in ("/logout", "/totp", "/login"):
        answer = await client.post(path, headers=sibling, allow_redirects=False)
        assert answer.status == 403, path
    assert (await login(client, headers=sibling)).status == 403  # no login CSRF
    assert (await client.post("/logout", headers={"Origin": "null"})).status == 403
    assert (await client.post("/logout", headers={"Referer": "http://127.0.0.1:8090/"})
            ).status == 403
    assert (await client.post("/logout", headers={"Sec-Fetch-Site": "same-site"})).status == 403
    assert (await client.get("/dashboard/data")).status == 200
    signed_out = await client.post("/logout", headers={"Origin": own,
                                                       "Sec-Fetch-Site": "same-origin"})
    assert signed_out.status == 200
    assert (await client.get("/dashboard/data")).status == 401


async def test_behind_a_proxy_the_origin_is_the_host_the_browser_addressed(
    browsers: MakeEnv,
) -> None:
    """A TLS proxy that passes Host on, or names it in X-Forwarded-Host."""
    env = await browsers(trusted_proxies=("127.0.0.1",))
    client = await env.client()
    public = {"Origin": "https://dash.example.org"}
    assert (await login(client, headers={**public, "Host": "dash.example.org"})).status == 303
    assert (await login(client, headers={**public, "X-Forwarded-Host": "dash.example.org"})
            ).status == 303
    assert (await login(client, headers={"Origin": "https://counsel.example.org",
                                         "Host": "dash.example.org"})).status == 403


async def test_a_store_that_does_not_answer_is_a_clear_503_not_a_crash(
    browsers: MakeEnv, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sign-in reads the lead's second factor from the store: a locked or unreachable
    database must not leave the lead with a bare "500 Internal Server Error" and no idea
    whether to retry, call someone, or whether their password was wrong."""
    env = await browsers()
    client = await env.client()

    async def busy(_user_id: str) -> bytes | None:
        raise StoreBusyError("the database stayed locked; stop the other process and retry")

    monkeypatch.setattr(env.store, "load", busy)
    answer = await login(client)
    assert answer.status == 503
    assert "try again" in await answer.text()


async def test_two_factor_set_up_with_a_store_that_does_not_answer_is_a_clear_503(
    browsers: MakeEnv, monkeypatch: pytest.MonkeyPatch, caplog: Any,
) -> None:
    """/totp reads (and saves) the lead's enrolment in the store too: a locked database must
    give the lead a page that says to retry, not aiohttp's bare 500 and a stack trace in
    the log."""
    env = await browsers()
    client = await env.client()
    assert (await login(client)).status == 303
    secret = secret_on(await (await client.get("/totp")).text())

    async def busy(*_args: object) -> bytes | None:
        raise StoreBusyError("the database stayed locked; stop the other process and retry")

    monkeypatch.setattr(env.store, "load", busy)
    with caplog.at_level("DEBUG"):
        shown = await client.get("/totp")
        sent = await client.post("/totp", data={"code": pyotp.TOTP(secret).at(env.clock.now())})
    assert [shown.status, sent.status] == [503, 503]
    assert "try again" in await shown.text()
    assert "try again" in await sent.text()
    assert not [r for r in caplog.records if r.exc_info], "a stack trace was logged"
