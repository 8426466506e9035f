"""Sign-in limits that stop password guessing without handing anyone a way to lock the real
team lead out (README "For youths, counsellors and team leads", the dashboard):

- failures count per account; an address that failed is refused while the account is under
  guard, and fresh addresses share one allowance per window;
- the lead, at a clean address, with the right password, is not refused because someone
  else guessed wrong; at a place they signed in from before, never.
"""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.web.sessions import AccountGuard
from tests.web.browsers import T0, MakeEnv, login

WINDOW = timedelta(minutes=5)


async def test_an_attacker_cannot_keep_the_real_lead_locked_out(browsers: MakeEnv) -> None:
    """Ten wrong guesses per five minutes, from two addresses, for an hour: the lead, at
    their own clean address with the right password, gets in every time."""
    env = await browsers(trusted_proxies=("127.0.0.1",))
    client = await env.client()
    refused = 0
    for _window in range(12):
        for n in range(10):
            await login(client, password=f"guess-{n}",
                        headers={"X-Forwarded-For": f"203.0.113.{n % 2}"})
        answer = await login(client, headers={"X-Forwarded-For": "198.51.100.7"})
        refused += answer.status == 429
        client.session.cookie_jar.clear()
        env.clock.advance(WINDOW)
    assert refused == 0, f"the real lead was refused in {refused} of 12 windows"


def test_guessing_from_many_addresses_stays_capped_per_account() -> None:
    guard = AccountGuard(10, WINDOW)
    checked = 0
    for n in range(1000):  # a botnet, one guess per address
        if guard.admit("lead", f"bot{n}", T0) == 0:
            checked += 1
            guard.failed("lead", f"bot{n}", T0)
    assert checked == 20
    assert guard.admit("lead", "bot0", T0) > 0
    assert guard.admit("lead", "bot0", T0 + WINDOW) == 0  # the window passed


def test_the_lead_at_a_place_they_signed_in_from_is_never_locked_out() -> None:
    guard = AccountGuard(10, WINDOW)
    guard.succeeded("lead", "office")
    for n in range(1000):
        if guard.admit("lead", f"bot{n}", T0) == 0:
            guard.failed("lead", f"bot{n}", T0)
    assert guard.admit("lead", "office", T0) == 0
    assert guard.admit("other lead", "bot5", T0) == 0  # another account is not under guard
