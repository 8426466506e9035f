"""Adapter: publish the bot's cross-signing identity and sign its device (aiohttp); read
other users' keys for the staff device check.

Idempotent and cheap on every start: one ``keys/query`` and nothing else when the server
already has our identity and our signature on the device.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from e2e.cross_signing import (
    CrossSigningSeeds,
    device_signing_upload_body,
    ed25519_key_id,
    signatures_upload_body,
)
from e2e.device_trust import cross_signing_public_key, verify_signature
from e2e.errors import CrossSigningError

_API = "/_matrix/client/v3"


async def ensure_cross_signed(
    session: aiohttp.ClientSession,
    homeserver: str,
    access_token: str,
    user_id: str,
    device_id: str,
    seeds: CrossSigningSeeds,
    password: str | None,
) -> bool:
    """Make the server hold our cross-signing keys and our signature on ``device_id``.

    Returns True if anything was uploaded. Replacing a different published identity needs
    the account ``password`` (interactive auth); without it, raises ``CrossSigningError``.
    """
    api = _Api(session, homeserver.rstrip("/") + _API, access_token)
    query = await api.post("keys/query", {"device_keys": {user_id: []}}, step="keys/query")
    # Checked first, so a device without keys leaves the server untouched.
    device = query.get("device_keys", {}).get(user_id, {}).get(device_id)
    if not isinstance(device, Mapping):
        raise CrossSigningError(
            "the bot's device has no published device keys yet; upload them first "
            "(nio: keys_upload after login), then cross-sign"
        )
    uploaded = False
    if not _identity_matches(query, seeds, user_id):
        published = isinstance(query.get("master_keys", {}).get(user_id), Mapping)
        if published and password is None:
            raise CrossSigningError(
                "the homeserver holds a different cross-signing identity for the bot; "
                "replacing it needs the bot account's password (configure it), or restore "
                "the vault that holds the original keys"
            )
        await _upload_signing_keys(api, seeds, user_id, password)
        uploaded = True
    ssk = seeds.self_signing_public
    if uploaded or not verify_signature(device, user_id, ed25519_key_id(ssk), ssk):
        body = signatures_upload_body(seeds, user_id, device_id, device)
        answer = await api.post("keys/signatures/upload", body, step="keys/signatures/upload")
        _raise_on_failures(answer)
        uploaded = True
    return uploaded


async def query_keys(
    session: aiohttp.ClientSession, homeserver: str, access_token: str, users: Sequence[str]
) -> dict[str, Any]:
    """``POST /keys/query`` for all devices of ``users``, with their cross-signing keys.

    nio queries keys too but keeps neither master nor self-signing keys, so the staff device
    check asks the server itself. Raises ``CrossSigningError`` if the server does not answer.
    """
    api = _Api(session, homeserver.rstrip("/") + _API, access_token)
    body = {"device_keys": {user: [] for user in users}, "timeout": 10_000}
    return await api.post("keys/query", body, step="keys/query")


def _identity_matches(query: Mapping[str, Any], seeds: CrossSigningSeeds, user_id: str) -> bool:
    def published(section: str, usage: str) -> str | None:
        return cross_signing_public_key(query.get(section, {}).get(user_id), user_id, usage)

    if published("master_keys", "master") != seeds.master_public:
        return False
    if published("self_signing_keys", "self_signing") != seeds.self_signing_public:
        return False
    # Only the owner sees its user-signing key; older servers may omit it.
    usk = query.get("user_signing_keys", {}).get(user_id)
    return usk is None or published("user_signing_keys", "user_signing") == (
        seeds.user_signing_public
    )


async def _upload_signing_keys(
    api: _Api, seeds: CrossSigningSeeds, user_id: str, password: str | None
) -> None:
    body = device_signing_upload_body(seeds, user_id)
    step = "keys/device_signing/upload"
    status, answer = await api.post_raw("keys/device_signing/upload", body)
    if status == 200:
        return
    if status != 401 or "session" not in answer:
        raise _http_error(step, status, answer)
    # Synapse lets the first upload through without auth (MSC3967); a replacement asks for it.
    if password is None:
        raise CrossSigningError(
            "the homeserver asks for the bot account's password to publish cross-signing "
            "keys; configure the bot's password and start again"
        )
    body["auth"] = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
        "session": answer["session"],
    }
    status, answer = await api.post_raw("keys/device_signing/upload", body)
    if status == 401:
        raise CrossSigningError(
            "the homeserver rejected the bot account's password while replacing its "
            "cross-signing keys; check the configured bot password"
        )
    if status != 200:
        raise _http_error(step, status, answer)


def _raise_on_failures(answer: Mapping[str, Any]) -> None:
    failures = answer.get("failures") or {}
    if failures:
        codes = sorted(
            {
                str(f.get("errcode", "?"))
                for per_user in failures.values()
                if isinstance(per_user, Mapping)
                for f in per_user.values()
                if isinstance(f, Mapping)
            }
        )
        raise CrossSigningError(
            f"the homeserver refused the bot's device signature ({', '.join(codes) or '?'}); "
            "check the homeserver log for keys/signatures/upload"
        )


def _http_error(step: str, status: int, answer: Mapping[str, Any]) -> CrossSigningError:
    errcode = answer.get("errcode", "no errcode")
    return CrossSigningError(
        f"{step} failed with HTTP {status} ({errcode}); check that the homeserver is "
        "running and the bot's access token is valid, and see the homeserver log"
    )


class _Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, access_token: str) -> None:
        self._session = session
        self._base = base
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def post_raw(self, path: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            async with self._session.post(
                f"{self._base}/{path}", json=body, headers=self._headers
            ) as response:
                answer = await response.json(content_type=None)
                return response.status, answer if isinstance(answer, dict) else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise CrossSigningError(
                f"cannot reach the homeserver for {path} ({type(exc).__name__}); check that "
                "it is running and the homeserver URL is right"
            ) from exc

    async def post(self, path: str, body: Mapping[str, Any], *, step: str) -> dict[str, Any]:
        status, answer = await self.post_raw(path, body)
        if status != 200:
            raise _http_error(step, status, answer)
        return answer
