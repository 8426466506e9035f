"""A backup made beside a running `counsel up`, restored into a new directory, runs: the
same accounts log in, a youth's room is still theirs, the bot opens its vault and starts.
Real processes, real Synapse."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port
from tests.support.matrix_http import MatrixHttp
from tests.test_cli_up import (
    COUNSEL,
    login_within_the_limit,
    printed_accounts,
    start_up,
    stop,
    write_config,
)

pytestmark = pytest.mark.integration

YOUTH = "@jugend-demo:counsel.localhost"
CANARY = "CANARY-Kim-aus-Rostock"


def counsel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COUNSEL, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COUNSEL_BACKUP_PASSPHRASE": "kept elsewhere"},
                          check=False)


async def youth_client(http: aiohttp.ClientSession, port: int,
                       accounts: dict[str, str]) -> MatrixHttp:
    client = MatrixHttp(http, f"http://127.0.0.1:{port}")
    status, body = await login_within_the_limit(client, YOUTH, accounts[YOUTH])
    assert status == 200, body
    client.token = body["access_token"]
    return client


async def test_a_backup_of_the_running_service_restores_and_runs(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    write_config(data, port)
    process, banner = start_up(data)
    accounts = printed_accounts(banner)
    try:
        async with aiohttp.ClientSession() as http:
            youth = await youth_client(http, port, accounts)
            status, _ = await youth.call(
                "PUT", f"/_matrix/client/v3/profile/{YOUTH}/displayname",
                {"displayname": CANARY})
            assert status == 200
            status, room = await youth.create_room(
                preset="trusted_private_chat", is_direct=True,
                invite=["@beratung:counsel.localhost"])
            assert status == 200, room
        made = counsel("backup", "--data", str(data), "--to", str(tmp_path / "backups"))
        assert made.returncode == 0, made.stderr
    finally:
        assert stop(process) == 0
    [file] = (tmp_path / "backups").iterdir()
    assert CANARY.encode() not in file.read_bytes()

    restored = tmp_path / "restored"
    opened = counsel("restore", str(file), "--data", str(restored))
    assert opened.returncode == 0, opened.stderr
    # The banner comes once the bot has opened its vault, logged in and started.
    process, banner = start_up(restored)
    try:
        assert printed_accounts(banner) == accounts
        async with aiohttp.ClientSession() as http:
            youth = await youth_client(http, port, accounts)
            status, joined = await youth.call("GET", "/_matrix/client/v3/joined_rooms")
            assert status == 200, joined
            assert room["room_id"] in joined["joined_rooms"]
    finally:
        assert stop(process) == 0
