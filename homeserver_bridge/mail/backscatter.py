"""How often the office may mail an address nobody checked (backscatter). Pure.

A bounce goes to the envelope sender, an acknowledgement to From or Reply-To: neither is
verified, so anyone can make the office mail a stranger by writing in their name, and a
relay that does so is soon listed as a spam source, so that replies to real youths are
refused or filtered. Each address hears at most once per `per_address`, all of them
together at most `per_window` times per `window`. Kept in memory (a restart forgets it),
never at rest.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class SendLimit:
    """Which automatic mails may go out now; the caller passes the time."""

    def __init__(self, per_address: timedelta, window: timedelta, per_window: int) -> None:
        self._per_address = per_address
        self._window = window
        self._per_window = per_window
        self._last: dict[str, datetime] = {}
        self._recent: deque[datetime] = deque()

    def allows(self, address: str, at: datetime) -> bool:
        self._forget(at)
        return _normalise(address) not in self._last and len(self._recent) < self._per_window

    def sent(self, address: str, at: datetime) -> None:
        self._last[_normalise(address)] = at
        self._recent.append(at)

    def _forget(self, at: datetime) -> None:
        while self._recent and at - self._recent[0] >= self._window:
            self._recent.popleft()
        for address in [a for a, when in self._last.items() if at - when >= self._per_address]:
            del self._last[address]


def _normalise(address: str) -> str:
    return address.strip().strip("<>").lower()
