"""Who may open the dashboard: team leads, proven by their Matrix password.

`MatrixPasswordAuth` does a throwaway Matrix /login and logs that new device out at once; it
never touches the bot's own device, and a user who is not a team lead is refused before their
password is sent anywhere.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import aiohttp

from counsel_bot.core.errors import BotError

log = logging.getLogger(__name__)

_USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(:[0-9]{1,5})?")
_DEVICE_NAME = "counsel dashboard sign-in check (logged out at once)"
_TIMEOUT = aiohttp.ClientTimeout(total=15)


class AuthUnavailableError(BotError):
    """The homeserver could not answer a sign-in check; the person should try again later."""


class TeamLeadAuth(Protocol):
    async def check(self, user_id: str, password: str) -> bool:
        """True when `user_id` is a team lead and `password` is theirs."""
        ...


def looks_like_user_id(user_id: str) -> bool:
    return bool(_USER_ID.fullmatch(user_id)) and len(user_id) <= 255


class MatrixPasswordAuth:
    def __init__(
        self, homeserver_url: str, team_leads: frozenset[str], session: aiohttp.ClientSession
    ) -> None:
        self._base = homeserver_url.rstrip("/")
        self._team_leads = team_leads
        self._session = session

    async def check(self, user_id: str, password: str) -> bool:
        if user_id not in self._team_leads or not looks_like_user_id(user_id) or not password:
            return False
        token, canonical = await self._login(user_id, password)
        if token is None:
            return False
        await self._logout(token)
        # The homeserver may map a differently written id to another account.
        return canonical == user_id

    async def _login(self, user_id: str, password: str) -> tuple[str | None, str | None]:
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
            "initial_device_display_name": _DEVICE_NAME,
        }
        try:
            async with self._session.post(
                f"{self._base}/_matrix/client/v3/login", json=body, timeout=_TIMEOUT
            ) as resp:
                if resp.status in (400, 401, 403):
                    return None, None
                if resp.status == 429:
                    # Refused like a wrong password: only leads are asked about, and anyone
                    # can use up an account's attempts at the homeserver's own /login, so
                    # an answer of its own would tell which IDs are team leads.
                    log.warning("the homeserver limits sign-in attempts; a dashboard "
                                "sign-in was refused for it")
                    return None, None
                if resp.status != 200:
                    raise AuthUnavailableError(
                        f"the homeserver answered the sign-in check with HTTP {resp.status}; "
                        "check that it is running and try again"
                    )
                data: Any = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise AuthUnavailableError(
                f"the homeserver cannot be reached for the sign-in check ({type(exc).__name__}); "
                "check that it is running and try again"
            ) from None
        token = data.get("access_token") if isinstance(data, dict) else None
        canonical = data.get("user_id") if isinstance(data, dict) else None
        if not isinstance(token, str) or not isinstance(canonical, str):
            raise AuthUnavailableError(
                "the homeserver's sign-in answer had no access token; check the homeserver"
            )
        return token, canonical

    async def _logout(self, token: str) -> None:
        try:
            async with self._session.post(
                f"{self._base}/_matrix/client/v3/logout",
                headers={"Authorization": f"Bearer {token}"},
                json={},
                timeout=_TIMEOUT,
            ) as resp:
                if resp.status == 200:
                    return
                status = str(resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        # The password was right; a leftover device is a clean-up task, not a refusal.
        log.warning(
            "could not log out the dashboard sign-in device (%s); remove devices named %r "
            "in the team lead's account settings",
            status,
            _DEVICE_NAME,
        )
