"""Plain client-server API calls for tests that check what the homeserver itself does."""

from __future__ import annotations

from typing import Any

import aiohttp


class MatrixHttp:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, token: str = "") -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.request(
            method, self.base_url + path, json=body, headers=headers
        ) as response:
            try:
                payload = await response.json(content_type=None)
            except ValueError:
                payload = {}
            return response.status, payload if isinstance(payload, dict) else {}

    async def login(self, user: str, password: str) -> tuple[int, dict[str, Any]]:
        return await self.call(
            "POST",
            "/_matrix/client/v3/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user},
                "password": password,
            },
        )

    async def create_room(self, **body: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", "/_matrix/client/v3/createRoom", body)
