"""First-run provisioning on the homeserver: the bridge's admin account, service and demo accounts.

Everything here is idempotent: a second run finds the files it wrote and reuses them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.errors import AdminApiError, BridgeError, NotFound, UserInUse
from homeserver_bridge.paths import DataLayout, write_private

ADMIN_LOCALPART = "counsel-admin"


@dataclass(frozen=True)
class Account:
    role: str
    user_id: str
    password: str
    display_name: str


async def admin_client(
    base_url: str, layout: DataLayout, session: aiohttp.ClientSession
) -> AdminClient:
    """An admin client for the bridge, registering its admin account on first use.

    The token lives in bridge/admin_token (0600); the password beside it lets us log in
    again if the token was revoked.
    """
    anonymous = AdminClient(base_url, "", session)
    token_file = layout.admin_token_file
    if token_file.exists():
        client = anonymous.with_token(token_file.read_text(encoding="utf-8").strip())
        if await _token_works(client):
            return client
        password = (layout.bridge_dir / "admin_password").read_text(encoding="utf-8").strip()
        token = await _password_login(anonymous, ADMIN_LOCALPART, password)
        write_private(token_file, token)
        return anonymous.with_token(token)
    secret = layout.registration_secret_file.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(24)
    try:
        user = await anonymous.register_with_shared_secret(
            secret, ADMIN_LOCALPART, password, admin=True
        )
    except UserInUse:
        raise BridgeError(
            f"the homeserver already has {ADMIN_LOCALPART} but {token_file} is missing; "
            "restore that file from a backup or start with a new data directory"
        ) from None
    write_private(layout.bridge_dir / "admin_password", password)
    write_private(token_file, user.access_token)
    return anonymous.with_token(user.access_token)


async def _token_works(client: AdminClient) -> bool:
    try:
        await client.request("GET", "/_matrix/client/v3/account/whoami")
    except AdminApiError as exc:
        if exc.status == 401:
            return False
        raise
    return True


async def _password_login(client: AdminClient, localpart: str, password: str) -> str:
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": localpart},
        "password": password,
        "initial_device_display_name": "counsel bridge",
    }
    answer = await client.request("POST", "/_matrix/client/v3/login", body, auth=False)
    return str(answer["access_token"])


async def ensure_accounts(
    admin: AdminClient,
    server_name: str,
    wanted: list[tuple[str, str, str]],
    record: Path,
) -> list[Account]:
    """Make sure each (role, localpart, display name) exists; passwords are kept in ``record``.

    Accounts are created with the admin API (no e-mail, no phone) and their passwords stored
    0600, so ``counsel up`` can print the same credentials on every run.
    """
    known = _read_accounts(record)
    accounts: list[Account] = []
    for role, localpart, display_name in wanted:
        user_id = f"@{localpart}:{server_name}"
        account = known.get(user_id)
        if account is None:
            account = Account(role, user_id, secrets.token_urlsafe(12), display_name)
            await admin.upsert_user(
                user_id, password=account.password, display_name=display_name
            )
        accounts.append(account)
        known[user_id] = account
        write_private(record, json.dumps([asdict(a) for a in known.values()], indent=2))
    return accounts


async def reserve_accounts(
    admin: AdminClient, layout: DataLayout, user_ids: list[str], record: Path,
) -> list[Account]:
    """Make each account of ``user_ids`` (the staff counsel.toml names) that does not exist
    yet, with a random password kept in ``record``; return those made now.

    Counsel trusts a staff member by the account's name: one named before anybody had it was
    free for whoever signed up first (the entry page hands sign-up codes to anyone). An
    account that exists (signed up by its owner, or deactivated) is left as it is. Made
    through shared-secret registration, which refuses a name taken meanwhile, never
    through the admin API's upsert, which would set the password of whoever took it; the
    login that registration opens is closed at once (an unverified session would count
    against the counsellor at `!duty on`)."""
    known = _read_accounts(record)
    made: list[Account] = []
    secret = layout.registration_secret_file.read_text(encoding="utf-8").strip()
    for user_id in user_ids:
        if user_id in known:
            continue
        try:
            await admin.get_user(user_id)
            continue
        except NotFound:
            pass
        account = Account("staff", user_id, secrets.token_urlsafe(12), "")
        try:
            user = await admin.register_with_shared_secret(
                secret, user_id[1:].partition(":")[0], account.password)
        except UserInUse:
            continue  # signed up meanwhile: it exists, and is not ours to change
        await admin.with_token(user.access_token).request(
            "POST", "/_matrix/client/v3/logout", {})
        known[user_id] = account
        write_private(record, json.dumps([asdict(a) for a in known.values()], indent=2))
        made.append(account)
    return made


def _read_accounts(record: Path) -> dict[str, Account]:
    if not record.exists():
        return {}
    return {a["user_id"]: Account(**a) for a in json.loads(record.read_text(encoding="utf-8"))}
