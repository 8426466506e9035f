"""`counsel up` as an admin runs it: a real process, real Synapse, credentials that log in."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from counsel_bot.runtime.service import first_run_config
from tests.conftest import free_port
from tests.homeserver_bridge.test_child_process import is_gone
from tests.support.bot_harness import until
from tests.support.matrix_http import MatrixHttp
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration

COUNSEL = [sys.executable, "-m", "counsel_bot.cli"]


def write_config(data: Path, port: int, entry_port: int | None = None) -> None:
    data.mkdir(parents=True, exist_ok=True)
    text = first_run_config().replace("port = 8008", f"port = {port}")
    assert "port = 8090" in text, "the example config no longer has the entry page's port"
    text = text.replace("port = 8090", f"port = {entry_port or free_port()}")
    assert "port = 9464" in text, "the example config no longer has the web view's port"
    text = text.replace("port = 9464", f"port = {free_port()}")
    (data / "counsel.toml").write_text(text)


def spawn_up(data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COUNSEL, "up", "--data", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COUNSEL_VAULT_PASSPHRASE": "test passphrase"},
    )


def start_up(data: Path) -> tuple[subprocess.Popen[str], str]:
    process = spawn_up(data)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C to stop." in line:
            return process, "".join(lines)
    process.kill()
    raise AssertionError("counsel up did not come up:\n" + "".join(lines))


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def printed_accounts(banner: str) -> dict[str, str]:
    return dict(re.findall(r"(@[\w-]+:[\w.]+)\s+password: (\S+)", banner))


async def test_up_prints_credentials_that_log_in_and_reuses_them(tmp_path: Path) -> None:
    data, port, entry_port = tmp_path / "data", free_port(), free_port()
    write_config(data, port, entry_port)
    process, banner = start_up(data)
    try:
        assert f"http://127.0.0.1:{port}" in banner
        assert "https://matrix.to/#/@beratung:counsel.localhost" in banner
        entry_url = f"http://127.0.0.1:{entry_port}/"
        assert re.search(rf"Entry page:\s+{re.escape(entry_url)}\n", banner), banner
        await entry_page_offers_a_token_and_the_chat(entry_url)
        accounts = printed_accounts(banner)
        assert len(accounts) == 3
        async with aiohttp.ClientSession() as http:
            client = MatrixHttp(http, f"http://127.0.0.1:{port}")
            for user_id, password in accounts.items():
                status, body = await login_within_the_limit(client, user_id, password)
                assert status == 200, (user_id, body)
            client.token = body["access_token"]
            await until(lambda: bot_is_cross_signed(client), within=60,
                        what="the bot to start and publish its cross-signing keys")
            # counsel up named its bot and staff to the homeserver's contact rules: the demo
            # youth (logged in last) opens a chat with the bot as Element does.
            assert body["user_id"] == "@jugend-demo:counsel.localhost"
            status, room = await client.create_room(
                preset="trusted_private_chat", is_direct=True,
                invite=["@beratung:counsel.localhost"])
            assert status == 200, room
    finally:
        assert stop(process) == 0
    assert "synapse.app.homeserver" not in _processes_using(data)
    with pytest.raises(aiohttp.ClientConnectorError):
        async with aiohttp.ClientSession() as http, http.get(entry_url):
            pass

    process, banner = start_up(data)
    try:
        assert printed_accounts(banner) == accounts
    finally:
        assert stop(process) == 0


async def login_within_the_limit(
    client: MatrixHttp, user_id: str, password: str
) -> tuple[int, dict[str, Any]]:
    """Log in, waiting as Synapse asks: the bot has logged in from this address already, and
    the shipped limit lets one address log in 3 times in a burst."""
    status, body = await client.login(user_id, password)
    if status == 429:
        await asyncio.sleep(body.get("retry_after_ms", 1000) / 1000 + 0.1)
        status, body = await client.login(user_id, password)
    return status, body


async def entry_page_offers_a_token_and_the_chat(url: str) -> None:
    """The page is up with the bot's chat link, and its token button reaches the admin API
    (so the session it uses outlived provisioning)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200
            page = await response.text()
        assert "https://matrix.to/#/@beratung:counsel.localhost" in page
        press = re.search(r'name="press" value="([^"]+)"', page)
        assert press is not None, "no token button on the page"
        async with http.post(url + "token", data={"press": press.group(1)}) as response:
            assert response.status == 200, await response.text()
            assert re.search(r'class="token"><code>[^<]+</code>', await response.text())


async def test_entry_page_can_be_switched_off(tmp_path: Path) -> None:
    from counsel_bot.config import load_settings
    from counsel_bot.core.clock import FakeClock
    from counsel_bot.runtime.service import Running, banner, start_entry_page
    from homeserver_bridge.paths import DataLayout
    from homeserver_bridge.provision import Account

    config = tmp_path / "counsel.toml"
    config.write_text("[entry_page]\nenabled = false\n")
    bot = Account("bot", "@beratung:counsel.localhost", "unused", "Beratung")
    # No homeserver: a page that is off must not reach for one.
    running = Running(load_settings(config), DataLayout(tmp_path), None, bot, [])  # type: ignore[arg-type]
    assert await start_entry_page(running, FakeClock()) is None
    assert "Entry page" not in banner(running)
    assert "Entry page:        http://127.0.0.1:8090/" in banner(running, "http://127.0.0.1:8090/")
    # What an admin needs next (found on a fresh install: neither was said).
    assert "Team-lead view:    http://127.0.0.1:9464/dashboard" in banner(running)
    assert "'!duty on'" in banner(running)


async def bot_is_cross_signed(client: MatrixHttp) -> bool:
    bot = "@beratung:counsel.localhost"
    status, keys = await client.call(
        "POST", "/_matrix/client/v3/keys/query", {"device_keys": {bot: []}}
    )
    return status == 200 and bot in keys.get("self_signing_keys", {})


def _processes_using(data: Path) -> str:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return "\n".join(line for line in listing.stdout.splitlines() if str(data) in line)


def run_up_expecting_failure(args: list[str]) -> tuple[int, str]:
    result = subprocess.run(
        [*COUNSEL, "up", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COUNSEL_VAULT_PASSPHRASE": "test passphrase"},
    )
    return result.returncode, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[homeserver]\nprot = 1\n", "homeserver.prot: unknown option"),
        ('[homeserver]\nport = "eight"\n', "homeserver.port: expected a whole number"),
        ("[homeserver\n", "not valid TOML"),
        ('[homeserver]\nregistration = "maybe"\n', "'maybe' is not one of"),
    ],
)
def test_bad_configuration_is_one_clear_line(tmp_path: Path, toml: str, expected: str) -> None:
    config = tmp_path / "counsel.toml"
    config.write_text(toml)
    args = ["--data", str(tmp_path / "d"), "--config", str(config)]
    code, output = run_up_expecting_failure(args)
    assert code == 1
    assert expected in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        write_config(tmp_path / "d", port)
        code, output = run_up_expecting_failure(["--data", str(tmp_path / "d")])
    assert code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


@pytest.mark.parametrize("staff", [
    '[staff]\ncounsellors = ["@anna:counsel.example.org"]\n',
    '[[offices]]\nid = "familie"\nteam_leads = ["@lea:counsel.localhost.de"]\n',
], ids=["counsellor", "an office's lead"])
def test_staff_on_another_server_are_refused_by_the_homeserver_that_talks_to_nobody(
    tmp_path: Path, staff: str,
) -> None:
    """The embedded homeserver has no federation. A counsellor or lead written with another
    server than [homeserver] server_name (the web host's name, a typo) was accepted: the
    staff room's invitation to them failed, so crisis alerts and pages went to a room
    they were never in. (Here the homeserver's port is taken: before, that was all that
    was said, after a start; now the staff id is, before anything starts.)"""
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "counsel.toml").write_text(
            f"[homeserver]\nport = {port}\n[web]\nport = {free_port()}\n"
            f"[entry_page]\nport = {free_port()}\n{staff}")
        code, output = run_up_expecting_failure(["--data", str(tmp_path / "d")])
    assert code == 1
    assert "is on another server than [homeserver] server_name 'counsel.localhost'" in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_entry_page_port_in_use_is_one_clear_line_and_stops_synapse(tmp_path: Path) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        entry_port = squatter.getsockname()[1]
        write_config(tmp_path / "d", free_port(), entry_port)
        code, output = run_up_expecting_failure(["--data", str(tmp_path / "d")])
    assert code == 1
    assert f"the entry page cannot listen on 127.0.0.1 port {entry_port}" in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1
    assert "synapse.app.homeserver" not in _processes_using(tmp_path / "d")


def test_unwritable_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, output = run_up_expecting_failure(["--data", str(blocker / "data")])
    assert code == 1
    assert "cannot create the data directory" in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def bot_pid(data: Path) -> int:
    """The running bot's pid, as it writes it into the lock it takes (its first line; the
    second names the database it is active on)."""
    lock = data / "bot" / "lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip()):
        assert time.monotonic() < deadline, "the bot never took its lock"
        time.sleep(0.1)
    return int(lock.read_text().split()[0])


def wait_until_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while not is_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_second_up_is_refused_before_it_touches_anything_and_a_dead_bot_fails_the_first(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    write_config(data, free_port())
    first, _ = start_up(data)
    try:
        # What the admin did on the old advice: a copy of the config with another port.
        other = tmp_path / "other.toml"
        other.write_text((data / "counsel.toml").read_text().replace(
            "[homeserver]\n", f"[homeserver]\nport = {free_port()}\n", 1))
        watched = [data / "synapse" / "homeserver.yaml", data / "bridge" / "accounts.json"]
        before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched}
        synapses = _processes_using(data).count("synapse.app.homeserver")
        began = time.monotonic()
        code, output = run_up_expecting_failure(["--data", str(data), "--config", str(other)])
        assert code == 1
        assert time.monotonic() - began < 15, "refused, but not at once"
        assert f"already running on the data directory {data.resolve()} (pid {first.pid})" \
            in output
        assert "Traceback" not in output
        assert len(output.strip().splitlines()) == 1
        assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched} == before
        assert _processes_using(data).count("synapse.app.homeserver") == synapses
        assert first.poll() is None
        # The same service, as it is running anyway: its bot dying later fails it.
        os.kill(bot_pid(data), signal.SIGKILL)
        assert first.wait(timeout=60) == 1
        assert first.stdout is not None
        assert "counsel: the bot stopped (exit status -9" in first.stdout.read()
        assert "synapse.app.homeserver" not in _processes_using(data)
    finally:
        if first.poll() is None:
            stop(first)


def test_bot_ends_when_counsel_up_is_killed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_config(data, free_port())
    process = spawn_up(data)
    try:
        # Killed as soon as the bot has its lock, while it starts: the hard moment, since its
        # requests to the homeserver (dying too) retry instead of failing.
        bot = bot_pid(data)
        # Its own session (a Ctrl-C reaches counsel, which stops the bot first) stays.
        assert os.getsid(bot) == bot
    finally:
        process.kill()
        process.wait()
    try:
        assert wait_until_gone(bot, within=30), "the bot outlived counsel up"
    finally:
        if not is_gone(bot):
            os.kill(bot, signal.SIGKILL)


def test_bot_that_cannot_start_fails_up_without_a_banner(tmp_path: Path) -> None:
    from counsel_bot.runtime.data_lock import exclusive

    data = tmp_path / "data"
    write_config(data, free_port())
    # The reported case: something (a bot that outlived its counsel up) holds the bot's lock.
    with exclusive(data / "bot", "testing"):
        code, output = run_up_expecting_failure(["--data", str(data)])
    assert code == 1, output
    assert f"another counsel process (pid {os.getpid()}) uses" in output
    assert "counsel: the bot did not start (exit status 1" in output
    assert "counsel is running." not in output
    assert "password:" not in output
    assert "synapse.app.homeserver" not in _processes_using(data)


def synapse_pid(data: Path) -> int:
    listing = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True,
                             check=True)
    for line in listing.stdout.splitlines():
        pid, _, args = line.strip().partition(" ")
        if str(data) in args and "synapse.app.homeserver" in args:
            return int(pid)
    raise AssertionError(f"no Synapse runs for {data}")


def test_a_homeserver_that_dies_fails_up(tmp_path: Path) -> None:
    """Synapse killed under a running service (the kernel's OOM killer, a crash): counsel up
    watched only its bot, so it ran on for good beside a dead homeserver, the bot asking for
    a sync every second, and systemd's Restart=on-failure never saw a failure."""
    data = tmp_path / "data"
    write_config(data, free_port())
    process, _ = start_up(data)
    try:
        bot = bot_pid(data)
        os.kill(synapse_pid(data), signal.SIGKILL)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("counsel up ran on without its homeserver") from None
        assert code == 1
        assert process.stdout is not None
        output = process.stdout.read()
        assert "counsel: the homeserver stopped (exit status -9" in output
        assert "Traceback" not in output
        assert wait_until_gone(bot, within=30), "the bot outlived counsel up"
    finally:
        if process.poll() is None:
            stop(process)


def test_a_bot_beside_a_homeserver_of_its_own_accepts_a_partner_office_s_staff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`counsel bot` runs beside a homeserver it does not start (deploy/: the scale-out
    writes no [homeserver] url, the bot derives it from bind_address and port), which may
    federate with partner offices (docs/scaling.md): a partner's counsellor in the staff
    room is the point. Only `counsel up`'s embedded homeserver surely talks to nobody; the
    check written for it refused such a bot at its start."""
    import counsel_bot.runtime.runner as runner
    from counsel_bot.runtime.service import run_bot_only

    started: list[str] = []
    monkeypatch.setattr(runner, "main_bot", lambda settings, *_: started.append("bot") or 0)
    data = tmp_path / "d"
    data.mkdir()
    config = data / "counsel.toml"
    config.write_text('[staff]\ncounsellors = ["@anna:partner.example.org"]\n')
    assert run_bot_only(data, config) == 0
    assert started == ["bot"]


async def test_a_staff_account_nobody_has_made_yet_cannot_be_signed_up_by_anyone(
    tmp_path: Path,
) -> None:
    """counsel.toml names a counsellor whose account does not exist yet (the admin names
    the team first; the README shows no other way to an account than the entry page's
    sign-up code, which anybody gets). Counsel trusts the name, not the person: whoever
    signed up first with it was staff, invited into the staff room, given youths with
    `!duty on`, and free of the homeserver's contact rules (could invite any youth into a
    room of their own). `counsel up` now makes each such account itself (a random password
    in bridge/accounts.json, as for the bot), and says so."""
    data, port = tmp_path / "data", free_port()
    write_config(data, port)
    config = data / "counsel.toml"
    demo = 'counsellors = ["@beraterin-demo:counsel.localhost"]'
    text = config.read_text()
    assert demo in text
    config.write_text(text.replace(
        demo, 'counsellors = ["@beraterin-demo:counsel.localhost", '
              '"@beratung-anna:counsel.localhost"]'))
    process, banner = start_up(data)
    try:
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{port}/_matrix/client/v3/register/available",
                params={"username": "beratung-anna"}) as response:
            answer = await response.json()
        assert answer.get("errcode") == "M_USER_IN_USE", answer
        assert "@beratung-anna:counsel.localhost" in banner
        assert "bridge/accounts.json" in banner
        # The password handed over works, and the account holds no session but the new
        # one (the registration's own would be an unverified session of the counsellor's).
        accounts = json.loads((data / "bridge" / "accounts.json").read_text())
        [password] = [a["password"] for a in accounts
                      if a["user_id"] == "@beratung-anna:counsel.localhost"]
        async with aiohttp.ClientSession() as http:
            client = MatrixHttp(http, f"http://127.0.0.1:{port}")
            status, body = await login_within_the_limit(
                client, "@beratung-anna:counsel.localhost", password)
            assert status == 200, body
            client.token = body["access_token"]
            status, devices = await client.call("GET", "/_matrix/client/v3/devices")
            assert status == 200, devices
            assert [d["device_id"] for d in devices["devices"]] == [body["device_id"]]
    finally:
        assert stop(process) == 0


async def test_a_partner_offices_counsellor_is_no_account_to_make_here(tmp_path: Path) -> None:
    """With [homeserver] url (the bot reaches the homeserver through a proxy) staff of a
    partner office's homeserver are allowed; `counsel up` makes missing staff accounts on
    its own homeserver only, and starts."""
    data, port = tmp_path / "data", free_port()
    write_config(data, port)
    config = data / "counsel.toml"
    text = config.read_text()
    demo = 'counsellors = ["@beraterin-demo:counsel.localhost"]'
    text = text.replace(demo, 'counsellors = ["@beraterin-demo:counsel.localhost", '
                              '"@anna:partner.example.org"]')
    assert '\nurl = ""' in text
    config.write_text(text.replace('\nurl = ""', f'\nurl = "http://127.0.0.1:{port}"', 1))
    process, banner = start_up(data)
    try:
        assert "@anna:partner.example.org" not in banner
    finally:
        assert stop(process) == 0


def test_a_staff_id_the_homeserver_cannot_have_is_one_clear_line_naming_it(
    tmp_path: Path,
) -> None:
    """A staff id with a letter Matrix ids cannot hold ("@anna!:…", a slip of the finger)
    is no account anybody can have: `counsel up` says which id, instead of the homeserver's
    refusal of a registration the admin never asked for."""
    data, port = tmp_path / "data", free_port()
    write_config(data, port)
    config = data / "counsel.toml"
    demo = 'counsellors = ["@beraterin-demo:counsel.localhost"]'
    config.write_text(config.read_text().replace(
        demo, 'counsellors = ["@beraterin-demo:counsel.localhost", "@anna!:counsel.localhost"]'))
    code, output = run_up_expecting_failure(["--data", str(data)])
    assert code == 1
    assert "@anna!:counsel.localhost" in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def _leadership_sessions(url: str) -> list[int]:
    """The backends of the bots' lock sessions (store/leadership.py) on ``url``'s database."""
    with psycopg.connect(url, autocommit=True) as db:
        rows = db.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                          "AND application_name = 'counsel-leadership'").fetchall()
    return [int(row[0]) for row in rows]


def test_a_bot_that_lost_the_active_role_is_started_again_not_the_service_stopped(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """counsel up with the PostgreSQL store: a database restart ends the bot's lock session,
    and the bot ends as it must (status 75, EX_TEMPFAIL: start it again). counsel up took it
    for a failure and stopped the homeserver and itself ("fix what it says"): every youth
    and counsellor lost the homeserver until systemd started it all again, after a database
    blip of a second. It starts the bot again, which waits as a standby and takes over."""
    data = tmp_path / "data"
    write_config(data, free_port())
    url = postgres.new_database()
    config = data / "counsel.toml"
    text = config.read_text()
    store = text.index("\n[store]\n")
    config.write_text(text[:store] + text[store:].replace('\nurl = ""\n', f'\nurl = "{url}"\n', 1))
    process, _ = start_up(data)
    try:
        first = bot_pid(data)
        homeserver = synapse_pid(data)
        [session] = _leadership_sessions(url)
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("SELECT pg_terminate_backend(%s)", (session,))
        assert wait_until_gone(first, within=15), "the bot went on without its role"
        deadline = time.monotonic() + 60
        while not _leadership_sessions(url):
            assert process.poll() is None, "counsel up stopped with the bot"
            assert time.monotonic() < deadline, "no bot took the role again"
            time.sleep(0.2)
        assert process.poll() is None
        assert synapse_pid(data) == homeserver, "the homeserver was restarted"
        # The new bot writes its pid into the lock once it holds the data directory, a
        # moment after its lock session appeared: until then the lock names the old one
        # (CI 89 read it in between).
        while bot_pid(data) == first:
            assert time.monotonic() < deadline, "the new bot never took the data directory"
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            assert stop(process) == 0
