"""Which offices have someone on duty who takes new youths now, for the entry page: read from
the bot's /metrics.

The entry page runs beside the bot process, not in it, so it learns this the way `counsel
stats` does. Only yes or no per office id is kept; when the bot cannot be read, nothing is
shown rather than something stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import aiohttp

from counsel_bot.config import Settings
from counsel_bot.office_metrics import UNDECIDED_LABEL
from counsel_bot.stats import StatsError, fetch_stats

log = logging.getLogger(__name__)


class OfficeDuty:
    def __init__(self, url: str, token: str | None, every: float = 30.0) -> None:
        self._url = url
        self._token = token
        self._every = every
        self._known: dict[str, bool] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> OfficeDuty | None:
        if not settings.offices or not settings.web.enabled:
            return None
        web = settings.web.web_settings()
        return cls(web.metrics_url, web.metrics_token())

    def __call__(self) -> Mapping[str, bool]:
        return self._known

    async def refresh(self, session: aiohttp.ClientSession) -> None:
        try:
            stats = await fetch_stats(self._url, self._token, session=session)
        except StatsError as exc:
            log.debug("office duty unknown: %s", exc)
            self._known = {}
            return
        # Someone who takes new youths: one on duty with `!capacity 0` is nobody to a youth.
        self._known = {office: figures.taking > 0 for office, figures in stats.offices.items()
                       if office != UNDECIDED_LABEL}

    async def run(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.refresh(session)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
