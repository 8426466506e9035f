"""Staff members' devices, asked of the homeserver: whether each is cross-signed decides
the conductor's warnings and whether routing trusts them (`core/device_trust_check.py`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from nio import AsyncClient

from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.device_trust_check import check_devices
from counsel_bot.core.ids import UserID
from e2e.cross_signing_upload import query_keys
from e2e.errors import CrossSigningError

log = logging.getLogger(__name__)


class StaffDevices:
    def __init__(self, client: AsyncClient, conductor: Conductor, clock: Clock,
                 is_staff: Callable[[str], bool]) -> None:
        self.client = client
        self.conductor = conductor
        self.clock = clock
        self._is_staff = is_staff

    async def check(self, users: Iterable[str]) -> None:
        """Ask the server for these staff members' devices and cross-signing keys, and hand
        each result to the conductor (warnings, routing). Others are not looked at."""
        staff = sorted({UserID(u) for u in users if self._is_staff(u)})
        session = self.client.client_session
        if not staff or session is None:
            return
        try:
            answer = await query_keys(session, self.client.homeserver,
                                      self.client.access_token, staff)
        except CrossSigningError as exc:
            # Not fatal: the next device-list change or !duty on checks again.
            log.warning("could not check staff devices: %s", exc)
            return
        at = self.clock.now()
        for user in staff:
            await self.conductor.devices_checked(check_devices(answer, user), at)
