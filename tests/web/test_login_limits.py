"""Sign-in limits that stop password guessing without handing anyone a way to lock the real
team lead out (README "For youths, counsellors and team leads", the dashboard):

- failures count per account; an address that failed is refused while the account is under
  guard, and fresh addresses share one allowance per window;
- the lead, at a clean address, with the right password, is not refused because someone
  else guessed wrong; at a place they signed in from before, never;
- a flood of made-up keys (addresses, Matrix ids) does not refuse every lead who has not
  tried yet: the limiter's table is bounded by forgetting the key tried longest ago.
"""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.web import sessions
from counsel_bot.web.sessions import AccountGuard, LoginLimiter
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


def test_a_flood_of_addresses_does_not_lock_every_lead_out() -> None:
    """10,000 made-up Matrix ids (or client addresses), renewed every five minutes, used to
    fill the table so that no new key was let in at all."""
    limiter = LoginLimiter(attempts=10, window=timedelta(minutes=5))
    for n in range(10_000):
        limiter.allow(f"@nobody{n}:counsel.localhost", T0)
    assert limiter.allow("@lead:counsel.localhost", T0 + timedelta(seconds=1))


def test_a_full_table_forgets_the_key_tried_longest_ago_not_a_busy_one() -> None:
    limiter = LoginLimiter(attempts=1, window=WINDOW)
    limiter.allow("guesser", T0)
    for n in range(sessions._MAX_ADDRESSES - 1):
        limiter.allow(f"key{n}", T0)
    limiter.record("guesser", T0)  # still trying: now the most recently tried key
    limiter.allow("newcomer", T0)  # the table is full: key0 is forgotten, not the guesser
    assert limiter.blocked("guesser", T0)
    assert limiter.blocked("key1", T0)
    assert not limiter.blocked("key0", T0)
