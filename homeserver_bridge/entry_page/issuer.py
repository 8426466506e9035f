"""Hands out single-use registration tokens: rate-limited, at most one per press of the button.

A press is the random id in the form the youth submitted. Submitting the same form twice
(a double tap, a reload of the result page) returns the token that press already got, so
each press costs at most one token. The lock makes check-then-record on the limiter atomic
across concurrent requests; issuing is rare and fast, so serialising it costs nothing, and a
homeserver that is stuck costs each youth at most ``ANSWER_WITHIN`` (then: try again).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from homeserver_bridge.admin_api import RegistrationToken
from homeserver_bridge.entry_page.render import Failed, Issued, Limited
from homeserver_bridge.errors import AdminApiError
from homeserver_bridge.rate_limit import Clock, RateLimiter

log = logging.getLogger(__name__)

_PRESS = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Long enough for a double tap or a reload, short enough that the memory stays small.
PRESS_MEMORY = timedelta(hours=1)
# The longest a youth waits for a code, queueing behind others included: making a token is
# one insert, so a homeserver that takes longer is stuck, and the lock would make everyone
# wait for it (the admin session's own timeout is aiohttp's five minutes).
ANSWER_WITHIN = timedelta(seconds=10)


class TokenSource(Protocol):
    """What the issuer needs of the admin API (``AdminClient`` has it)."""

    async def create_registration_token(
        self, *, uses_allowed: int | None = 1, expires_at: datetime | None = None
    ) -> RegistrationToken: ...


@dataclass(frozen=True)
class _Remembered:
    token: str
    at: datetime


def valid_press(press: str | None) -> str | None:
    return press if press is not None and _PRESS.fullmatch(press) else None


class TokenIssuer:
    def __init__(
        self, source: TokenSource, limiter: RateLimiter, clock: Clock, ttl: timedelta,
        answer_within: timedelta | None = None,
    ) -> None:
        self._source = source
        self._answer_within = answer_within or ANSWER_WITHIN
        self._limiter = limiter
        self._clock = clock
        self._ttl = ttl
        self._presses: dict[str, _Remembered] = {}
        self._lock = asyncio.Lock()

    async def issue(self, client_key: str, press: str | None) -> Issued | Limited | Failed | None:
        """One token for this press, or why not. ``None`` if ``press`` is not a valid id:
        the caller offers a fresh form instead of guessing what was meant."""
        press = valid_press(press)
        if press is None:
            return None
        try:
            async with asyncio.timeout(self._answer_within.total_seconds()):
                return await self._issue(client_key, press)
        except TimeoutError:
            # Nothing was recorded: the limiter spends only after a token was made, and no
            # await lies between making it and recording it.
            log.warning("no registration token within %d s; the homeserver seems stuck",
                        self._answer_within.total_seconds())
            return Failed(press)

    async def _issue(self, client_key: str, press: str) -> Issued | Limited | Failed:
        async with self._lock:
            now = self._clock.now()
            self._forget_old(now)
            remembered = self._presses.get(press)
            if remembered is not None:
                return Issued(remembered.token)
            verdict = self._limiter.check(client_key)
            if not verdict.allowed:
                assert verdict.limited_by is not None
                return Limited(verdict.limited_by, verdict.retry_after)
            try:
                token = await self._source.create_registration_token(
                    uses_allowed=1, expires_at=now + self._ttl
                )
            except AdminApiError as exc:
                log.warning("could not create a registration token: %s", exc)
                return Failed(press)
            self._limiter.record(client_key)
            self._presses[press] = _Remembered(token.token, now)
            return Issued(token.token)

    def _forget_old(self, now: datetime) -> None:
        old = [press for press, seen in self._presses.items() if now - seen.at > PRESS_MEMORY]
        for press in old:
            del self._presses[press]
