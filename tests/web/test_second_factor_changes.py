"""Turning on or replacing two-factor sign-in: the promises a lead relies on when they fear
their password (or a session) is in someone else's hands.

- Replacing a second factor needs a code of the current one (or a recovery code): a session
  alone, stolen or left open, cannot swap the lead's authenticator for another.
- Turning two-factor sign-in on, or replacing it, ends every other session of the account.
- Giving the second factor issues a new session token; the one from before stops working.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp

from counsel_bot.web import COOKIE
from counsel_bot.web import second_factor as sf
from tests.web.browsers import LEAD, MakeEnv, enrol, login, secret_on


async def test_a_session_cannot_replace_the_second_factor_without_it(browsers: MakeEnv) -> None:
    env = await browsers(login_attempts=100, login_attempts_per_account=100)
    intruder, lead = await env.client(), await env.client()
    assert (await login(intruder)).status == 303  # the password alone, before 2FA was on
    assert (await login(lead)).status == 303
    lead_secret, lead_codes = await enrol(lead, env.clock)
    # The intruder's password-only session ended when the lead turned 2FA on.
    assert (await intruder.get("/totp", allow_redirects=False)).headers["Location"] == "/login"

    # A full session (a stolen cookie of the lead's) cannot replace the factor on its own.
    env.clock.advance(timedelta(minutes=1))
    stolen = await env.client()
    assert (await login(stolen, code=pyotp.TOTP(lead_secret).at(env.clock.now()))).status == 303
    page = await (await stolen.get("/totp")).text()
    assert "current authenticator app" in page
    theirs = secret_on(page)
    replaced = await stolen.post("/totp", data={"code": pyotp.TOTP(theirs).at(env.clock.now()),
                                                "current": "000000"})
    assert replaced.status == 403
    assert "recovery codes" in await replaced.text()
    env.clock.advance(timedelta(minutes=1))
    own = await login(await env.client(), code=pyotp.TOTP(lead_secret).at(env.clock.now()))
    assert own.status == 303  # the lead's own authenticator still works

    # The lead, with their phone lost, replaces it with a recovery code.
    new_secret, _ = await enrol(lead, env.clock, current=lead_codes[0])
    env.clock.advance(timedelta(minutes=1))
    assert (await login(await env.client(),
                        code=pyotp.TOTP(lead_secret).at(env.clock.now()))).status == 401
    assert (await login(await env.client(),
                        code=pyotp.TOTP(new_secret).at(env.clock.now()))).status == 303


async def test_turning_on_two_factor_ends_the_password_only_sessions(browsers: MakeEnv) -> None:
    """An intruder's session opened with the password alone does not keep the dashboard
    for the rest of its `session_seconds` once the lead turned two-factor sign-in on; the
    lead's own browser stays signed in."""
    env = await browsers()
    intruder, lead = await env.client(), await env.client()
    assert (await login(intruder)).status == 303
    assert (await login(lead)).status == 303
    await enrol(lead, env.clock)
    assert (await intruder.get("/dashboard/data")).status == 401
    assert (await lead.get("/dashboard/data")).status == 200


async def test_the_session_token_changes_when_the_second_factor_is_given(
    browsers: MakeEnv,
) -> None:
    """With require_totp the password alone gives a restricted session; giving the second
    factor issues a new token (the privilege changed), so a token seen before (fixed, logged
    by a proxy, read from devtools) never becomes a full session."""
    env = await browsers(require_totp=True)
    client = await env.client()
    before = (await login(client)).cookies[COOKIE].value
    await enrol(client, env.clock)
    replay = await client.get("/dashboard/data", cookies={COOKIE: before})
    assert replay.status == 401, "the pre-2FA token opens the dashboard"
    assert (await client.get("/dashboard/data")).status == 200  # the new cookie does


async def test_a_session_cannot_guess_its_way_to_replacing_the_second_factor(
    browsers: MakeEnv,
) -> None:
    """The code of the current factor is what keeps a stolen cookie from swapping the lead's
    authenticator (and with it their recovery codes, and every other session of theirs). It
    is a six-digit code: unlimited guesses take it within hours, so they share the sign-in's
    daily cap of wrong codes (test_second_factor: 100 a day)."""
    env = await browsers()
    lead = await env.client()
    assert (await login(lead)).status == 303
    lead_secret, lead_codes = await enrol(lead, env.clock)
    env.clock.advance(timedelta(minutes=1))
    stolen = await env.client()
    assert (await login(stolen, code=pyotp.TOTP(lead_secret).at(env.clock.now()))).status == 303
    theirs = secret_on(await (await stolen.get("/totp")).text())
    valid = {pyotp.TOTP(lead_secret).at(env.clock.now() + timedelta(seconds=s))
             for s in (-30, 0, 30)}
    guesses = [g for g in (f"{n:06d}" for n in range(104)) if g not in valid][:101]
    checked = 0
    for guess in guesses:
        answer = await stolen.post("/totp", data={
            "code": pyotp.TOTP(theirs).at(env.clock.now()), "current": guess})
        checked += answer.status == 403
    assert checked <= 100, f"{checked} guesses at the current code were checked in one day"
    # The lead's recovery codes still replace it (their phone lost, say).
    await enrol(lead, env.clock, current=lead_codes[0])


async def test_a_reset_second_factor_ends_the_sessions_it_opened(browsers: MakeEnv) -> None:
    """A lead whose phone was stolen has the administrator remove the second factor
    (`counsel web reset-second-factor`, which writes the store beside the running bot): a
    session opened with that phone's codes (the thief's) must not keep the dashboard for
    the rest of its eight hours."""
    env = await browsers()
    lead = await env.client()
    assert (await login(lead)).status == 303
    lead_secret, _ = await enrol(lead, env.clock)
    env.clock.advance(timedelta(minutes=1))
    thief = await env.client()
    assert (await login(thief, code=pyotp.TOTP(lead_secret).at(env.clock.now()))).status == 303
    assert (await thief.get("/dashboard/data")).status == 200

    assert await sf.StoreSecondFactors(env.store.memory).forget(LEAD)  # what the CLI does

    assert (await thief.get("/dashboard/data")).status == 401
    assert (await thief.get("/dashboard", allow_redirects=False)).headers["Location"] == "/login"
    assert (await thief.get("/totp", allow_redirects=False)).headers["Location"] == "/login"
