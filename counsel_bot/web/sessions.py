"""Server-side dashboard sessions and the login rate limit. In memory, time passed in.

Sessions: the cookie holds a random token; the table keys on its SHA-256, so the table itself
holds nothing a cookie could be rebuilt from. A session ends at a fixed time after login, or
at logout. Both tables are bounded, so a flood of requests cannot grow memory without end.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
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


class SessionTable:
    def __init__(self, lifetime: timedelta) -> None:
        self._lifetime = lifetime
        self._sessions: dict[bytes, Session] = {}

    def create(self, user_id: str, now: datetime, *, full: bool = True) -> str:
        """A new session; returns the token for the cookie."""
        self._prune(now)
        if len(self._sessions) >= _MAX_SESSIONS:
            oldest = min(self._sessions, key=lambda k: self._sessions[k].expires_at)
            del self._sessions[oldest]
        token = secrets.token_urlsafe(32)
        self._sessions[_key(token)] = Session(user_id, now + self._lifetime, full)
        return token

    def rotate(self, token: str, now: datetime) -> str | None:
        """The second factor was given: a new token for a full session with the same end.
        The old token dies here, so one seen before the second factor (a proxy log, a fixed
        cookie) never opens the dashboard. None when `token` has no live session."""
        session = self.get(token, now)
        if session is None:
            return None
        del self._sessions[_key(token)]
        fresh = secrets.token_urlsafe(32)
        self._sessions[_key(fresh)] = Session(session.user_id, session.expires_at, True)
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
        recent = self._seen.get(address)
        if recent is None:
            if len(self._seen) >= _MAX_ADDRESSES:
                self._prune(now)
            if len(self._seen) >= _MAX_ADDRESSES:
                # Under a flood from many addresses, refuse rather than forget who tried.
                return False
            recent = self._seen[address] = deque()
        while recent and now - recent[0] >= self._window:
            recent.popleft()
        if len(recent) >= self._attempts:
            return False
        recent.append(now)
        return True

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
