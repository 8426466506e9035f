"""Server-side dashboard sessions and the login rate limit. In memory, time passed in.

Sessions: the cookie holds a random token; the table keys on its SHA-256, so the table itself
holds nothing a cookie could be rebuilt from. A session ends at a fixed time after login, or
at logout. Both tables are bounded, so a flood of requests cannot grow memory without end.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

_MAX_SESSIONS = 1000
_MAX_ADDRESSES = 10_000


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Session:
    user_id: str
    expires_at: datetime
    # False: password only, where a second factor is required; opens the enrolment page only.
    full: bool = True
    # The second factor the session was opened with (its enrolment's salt), None without
    # one: the session lasts only as long as that enrolment (app.py, `_any_session`).
    factor: str | None = None


class SessionTable:
    def __init__(self, lifetime: timedelta) -> None:
        self._lifetime = lifetime
        self._sessions: dict[bytes, Session] = {}

    def create(self, user_id: str, now: datetime, *, full: bool = True,
               factor: str | None = None) -> str:
        """A new session; returns the token for the cookie."""
        self._prune(now)
        if len(self._sessions) >= _MAX_SESSIONS:
            oldest = min(self._sessions, key=lambda k: self._sessions[k].expires_at)
            del self._sessions[oldest]
        token = secrets.token_urlsafe(32)
        self._sessions[_key(token)] = Session(user_id, now + self._lifetime, full, factor)
        return token

    def rotate(self, token: str, now: datetime, factor: str | None = None) -> str | None:
        """The second factor was given: a new token for a full session with the same end.
        The old token dies here, so one seen before the second factor (a proxy log, a fixed
        cookie) never opens the dashboard. None when `token` has no live session."""
        session = self.get(token, now)
        if session is None:
            return None
        del self._sessions[_key(token)]
        fresh = secrets.token_urlsafe(32)
        self._sessions[_key(fresh)] = Session(session.user_id, session.expires_at, True, factor)
        return fresh

    def end_others(self, user_id: str, keep: str) -> int:
        """Ends every session of `user_id` but the one of token `keep`; how many ended.
        Turning on (or replacing) a second factor is what a lead does who fears the password
        leaked: a session opened with it must not outlive that."""
        kept = _key(keep)
        others = [k for k, s in self._sessions.items() if s.user_id == user_id and k != kept]
        for key in others:
            del self._sessions[key]
        return len(others)

    def get(self, token: str | None, now: datetime) -> Session | None:
        if not token:
            return None
        key = _key(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        if now >= session.expires_at:
            del self._sessions[key]
            return None
        return session

    def end(self, token: str | None) -> None:
        if token:
            self._sessions.pop(_key(token), None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _prune(self, now: datetime) -> None:
        expired = [k for k, s in self._sessions.items() if now >= s.expires_at]
        for key in expired:
            del self._sessions[key]


class LoginLimiter:
    """At most `attempts` login attempts per key (a client or an account) in any `window`."""

    def __init__(self, attempts: int, window: timedelta) -> None:
        self._attempts = attempts
        self._window = window
        self._seen: dict[str, deque[datetime]] = {}

    def allow(self, address: str, now: datetime) -> bool:
        """Record an attempt; False when the address has used up its attempts."""
        if self.blocked(address, now):
            return False
        self.record(address, now)
        return True

    def blocked(self, key: str, now: datetime) -> bool:
        """Whether `key` has used up its attempts; records nothing."""
        recent = self._seen.get(key)
        if recent is None:
            return False
        while recent and now - recent[0] >= self._window:
            recent.popleft()
        return len(recent) >= self._attempts

    def record(self, key: str, now: datetime) -> None:
        """Count one attempt of `key`."""
        recent = self._seen.pop(key, None)
        if recent is None:
            if len(self._seen) >= _MAX_ADDRESSES:
                self._prune(now)
            if len(self._seen) >= _MAX_ADDRESSES:
                # A flood of made-up keys must not refuse every new one (every lead who has
                # not tried yet): the key tried longest ago is forgotten. Forgetting one
                # takes 10,000 keys tried after it, i.e. 2,000 addresses at their limit in
                # one window, and gives back at most one window's attempts of one key.
                del self._seen[next(iter(self._seen))]
            recent = deque()
        # Re-inserted, so the dict's order is the order keys were last tried in.
        self._seen[key] = recent
        recent.append(now)

    def retry_after(self, address: str, now: datetime) -> int:
        """Whole seconds until the address may try again (0 when it may now)."""
        recent = self._seen.get(address)
        if not recent or len(recent) < self._attempts:
            return 0
        return max(int((recent[0] + self._window - now).total_seconds()) + 1, 0)

    def _prune(self, now: datetime) -> None:
        stale = [a for a, r in self._seen.items() if not r or now - r[-1] >= self._window]
        for address in stale:
            del self._seen[address]


class AccountGuard:
    """Failed sign-ins per account, without letting anyone lock the real lead out.

    Rules it keeps (all keys are opaque HMACs, `limit_key`):
    1. Only failures count against an account (a wrong password, a wrong second factor):
       `failures` of them in `window` put it under guard.
    2. Under guard, a client address with a failure of its own in the window is refused;
       so is every attempt once the account's allowance for clean addresses (`failures`
       again per window) is used up. Guessing stays at most 2 x `failures` per window.
    3. Under guard, a clean address where this account signed in before is let through
       (the lead at their usual place), and costs no allowance: an attacker can lock a
       lead out of a new place only with fresh addresses in every window, never out of
       the place they sign in from.
    """

    def __init__(self, failures: int, window: timedelta) -> None:
        self._failures = LoginLimiter(failures, window)
        self._allowance = LoginLimiter(failures, window)
        self._failed_from = LoginLimiter(1, window)
        self._known: dict[str, None] = {}

    def admit(self, account: str, client: str, now: datetime) -> int:
        """0 when this attempt may have its password checked, else seconds to wait."""
        if not self._failures.blocked(account, now):
            return 0
        wait = self._failures.retry_after(account, now)
        if self._failed_from.blocked(client, now):
            return wait
        if _pair(account, client) in self._known:
            return 0
        return 0 if self._allowance.allow(account, now) else wait

    def failed(self, account: str, client: str, now: datetime) -> None:
        self._failures.record(account, now)
        self._failed_from.record(client, now)

    def succeeded(self, account: str, client: str) -> None:
        pair = _pair(account, client)
        self._known.pop(pair, None)
        if len(self._known) >= _MAX_ADDRESSES:
            del self._known[next(iter(self._known))]  # the longest unseen place
        self._known[pair] = None


def _pair(account: str, client: str) -> str:
    return f"{account}/{client}"


class KeyedLocks:
    """One asyncio lock per key, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
