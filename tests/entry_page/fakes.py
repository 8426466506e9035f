"""A stand-in for the admin API's token call, and content to render."""

from __future__ import annotations

from datetime import datetime

from homeserver_bridge.admin_api import RegistrationToken
from homeserver_bridge.entry_page import EntryPageContent
from homeserver_bridge.errors import AdminApiError

CONTENT = EntryPageContent(
    homeserver_url="http://127.0.0.1:8008",
    server_name="counsel.localhost",
    bot_user_id="@beratung:counsel.localhost",
)


class FakeAdmin:
    def __init__(self) -> None:
        self.calls: list[tuple[int | None, datetime | None]] = []
        self.fail = False

    async def create_registration_token(
        self, *, uses_allowed: int | None = 1, expires_at: datetime | None = None
    ) -> RegistrationToken:
        if self.fail:
            raise AdminApiError("the homeserver refused POST /_synapse/admin/v1: 500")
        self.calls.append((uses_allowed, expires_at))
        return RegistrationToken(f"tok{len(self.calls):04d}xyz", uses_allowed, 0, None)
