"""Devices forget the address and app they were last seen from (anonymity: an address is what
links an anonymous account to a person). Synapse's `user_ips_max_age` prunes only the
address history; each device kept its last address and user agent for as long as it
existed (a suspicion of the entry review, confirmed here on the real homeserver: before the
module, the address stayed). Checked on a real Synapse with the module loaded from the
rendered config, its durations shortened to seconds."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Collection
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

import homeserver_bridge.embedded as embedded_module
from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.forget_addresses import ForgetDeviceAddresses, ForgetSettings
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.settings import HomeserverSettings
from homeserver_bridge.synapse_config import render_homeserver_yaml
from tests.conftest import homeserver_test_settings
from tests.support.matrix_http import MatrixHttp


def test_the_module_is_loaded_with_user_ips_max_age() -> None:
    import yaml

    config = yaml.safe_load(render_homeserver_yaml(HomeserverSettings(), DataLayout(Path("/d"))))
    [module] = [m for m in config["modules"] if m["module"].endswith(".ForgetDeviceAddresses")]
    assert module["module"] == "homeserver_bridge.forget_addresses.ForgetDeviceAddresses"
    settings = ForgetDeviceAddresses.parse_config(module["config"])
    assert settings.max_age_seconds == 7 * 24 * 3600  # user_ips_max_age: 7d
    assert config["user_ips_max_age"] == "7d"


@pytest.mark.parametrize("config", [{"max_age_seconds": 0}, {"interval_seconds": "1h"},
                                    {"max_age_seconds": True}, {"max_age": 5}])
def test_a_bad_value_stops_synapse_with_the_key_named(config: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="forget_addresses"):
        ForgetDeviceAddresses.parse_config(config)


def test_no_config_gives_the_defaults() -> None:
    assert ForgetDeviceAddresses.parse_config(None) == ForgetSettings()


async def _synapse_running_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, max_age_seconds: int | None = None,
) -> EmbeddedSynapse:
    """The embedded Synapse, started, with the module running every second (and keeping
    addresses ``max_age_seconds`` where given, else its week)."""
    write = embedded_module.write_homeserver_config

    def shortened(settings: HomeserverSettings, layout: DataLayout,
                  trusted: Collection[str], bots: Collection[str] = ()) -> Path:
        path = write(settings, layout, trusted, bots)
        text = path.read_text(encoding="utf-8")
        text = text.replace("interval_seconds: 3600", "interval_seconds: 1")
        if max_age_seconds is not None:
            text = text.replace("max_age_seconds: 604800", f"max_age_seconds: {max_age_seconds}")
        path.write_text(text, encoding="utf-8")
        return path

    monkeypatch.setattr(embedded_module, "write_homeserver_config", shortened)
    synapse = EmbeddedSynapse(homeserver_test_settings(), DataLayout(tmp_path), trusted=())
    await synapse.start()
    return synapse


@pytest.mark.integration
async def test_a_device_not_seen_for_a_while_keeps_no_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    synapse = await _synapse_running_the_module(tmp_path, monkeypatch, max_age_seconds=2)
    try:
        async with aiohttp.ClientSession() as http:
            admin = MatrixHttp(http, synapse.base_url,
                               await _register(synapse, http, "admin", admin=True))
            youth = await _register(synapse, http, "sonnenblume")
            client = MatrixHttp(http, synapse.base_url, youth)
            status, _ = await client.call("GET", "/_matrix/client/v3/account/whoami")
            assert status == 200

            async def last_seen_ip() -> str | None:
                user = quote(f"@sonnenblume:{synapse.settings.server_name}")
                status, answer = await admin.call(
                    "GET", f"/_synapse/admin/v2/users/{user}/devices")
                assert status == 200, answer
                [device] = answer["devices"]
                return device.get("last_seen_ip")

            seen = [await last_seen_ip()]
            for _ in range(40):  # Synapse writes addresses every 5 s; the module runs each 1 s
                await asyncio.sleep(0.5)
                seen.append(await last_seen_ip())
                if seen[-1] is None and "127.0.0.1" in seen:
                    break
            assert "127.0.0.1" in seen, seen  # it was kept ...
            assert seen[-1] is None, seen  # ... and then forgotten
    finally:
        await synapse.stop()


async def _register(synapse: EmbeddedSynapse, http: aiohttp.ClientSession, name: str, *,
                    admin: bool = False) -> str:
    secret = synapse.layout.registration_secret_file.read_text(encoding="utf-8").strip()
    registered = await AdminClient(synapse.base_url, "", http).register_with_shared_secret(
        secret, name, "a long passphrase of words", admin=admin)
    return registered.access_token


async def _admin_and_youth(synapse: EmbeddedSynapse,
                           http: aiohttp.ClientSession) -> tuple[AdminClient, MatrixHttp]:
    """An admin (as counsel's bridge) and the youth "sonnenblume", registered."""
    admin = AdminClient(synapse.base_url, await _register(synapse, http, "admin", admin=True),
                        http)
    youth = MatrixHttp(http, synapse.base_url, await _register(synapse, http, "sonnenblume"))
    return admin, youth


def _visited_today(database: Path, youth: str) -> None:
    """A row of ``user_daily_visits`` as Synapse's five-minute job writes it (with the
    phone's user agent), rather than waiting five minutes for the job."""
    day_start = (int(time.time()) // 86400) * 86400 * 1000
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db, db:
        db.execute("INSERT INTO user_daily_visits (user_id, device_id, timestamp, "
                   "user_agent) VALUES (?, ?, ?, ?)",
                   (youth, "DEVICE", day_start, "Element/1.11 (SM-A525F; Android 13)"))


@pytest.mark.integration
async def test_the_daily_visit_log_forgets_the_app_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every five minutes Synapse copies each account's devices seen today, with the user
    agent they used (``Element/1.11 (Samsung SM-A525F; Android 13)``: the phone), into
    ``user_daily_visits``, one row per account, device and day, whatever ``report_stats``
    says, and never deletes them: a day-by-day log of when a youth wrote, and from which
    phone, kept for ever beside the account, after its erasure too. The row is written here
    as Synapse's job writes it (not to wait five minutes for the job); it must be gone once
    older than the module's age, like the device's own address and app."""
    synapse = await _synapse_running_the_module(tmp_path, monkeypatch, max_age_seconds=2)
    database = synapse.layout.synapse_dir / "homeserver.db"
    youth = f"@sonnenblume:{synapse.settings.server_name}"
    try:
        async with aiohttp.ClientSession() as http:
            await _register(synapse, http, "sonnenblume")
        _visited_today(database, youth)

        def agents() -> list[str]:
            with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
                rows = db.execute("SELECT user_agent FROM user_daily_visits WHERE user_id = ?",
                                  (youth,)).fetchall()
            return [agent for (agent,) in rows if agent]

        seen = [agents()]
        for _ in range(20):  # the module runs every second, the row is already old
            await asyncio.sleep(0.5)
            seen.append(agents())
            if not seen[-1]:
                break
        assert seen[0], seen  # the row was there ...
        assert seen[-1] == [], seen  # ... and is forgotten
    finally:
        await synapse.stop()


@pytest.mark.integration
async def test_an_erased_account_keeps_no_address_or_app_in_synapse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A youth who deletes their chat has their account deactivated with erasure. Synapse
    deletes its devices, but keeps the address history (``user_ips``: each address, app and
    device the account used) until ``user_ips_max_age``, seven days, and the daily visits
    until the module's age: for a week after the youth asked to be forgotten, their home's
    address stayed beside their chosen name. Here only the module's interval is shortened
    (to a second), not its age: an erased account's rows must go at its next run."""
    synapse = await _synapse_running_the_module(tmp_path, monkeypatch)
    database = synapse.layout.synapse_dir / "homeserver.db"
    youth = f"@sonnenblume:{synapse.settings.server_name}"

    def rows(table: str) -> int:
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
            [(count,)] = db.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?",
                                    (youth,)).fetchall()
        return int(count)

    try:
        async with aiohttp.ClientSession() as http:
            admin, client = await _admin_and_youth(synapse, http)
            for _ in range(40):  # Synapse writes the address history every 5 s
                status, _ = await client.call("GET", "/_matrix/client/v3/account/whoami")
                assert status == 200
                if rows("user_ips"):
                    break
                await asyncio.sleep(0.5)
            assert rows("user_ips"), "the address history was never written"
            _visited_today(database, youth)

            await admin.deactivate(youth, erase=True)

            left = [rows("user_ips"), rows("user_daily_visits")]
            for _ in range(20):  # the module runs every second
                if left == [0, 0]:
                    break
                await asyncio.sleep(0.5)
                left = [rows("user_ips"), rows("user_daily_visits")]
            assert left == [0, 0], "the erased account's addresses and apps stayed"
    finally:
        await synapse.stop()


@pytest.mark.integration
async def test_an_erased_accounts_nickname_leaves_the_search_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded Synapse keeps its data in SQLite, whose full-text tables (the user
    directory's search) only mark a deleted row as deleted: the words stay in the index's
    segments, a table anyone with the file reads. A youth's erasure deleted their display
    name (their chosen nickname, often a real one) from the directory, and it stayed there
    beside their account's id, for good. The module's run must leave it nowhere."""
    synapse = await _synapse_running_the_module(tmp_path, monkeypatch)
    database = synapse.layout.synapse_dir / "homeserver.db"
    youth = f"@sonnenblume:{synapse.settings.server_name}"
    nickname = "lenamarieschulz2009"

    def indexed() -> bool:
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
            rows = db.execute("SELECT root FROM user_directory_search_segdir").fetchall()
        return any(nickname.encode() in bytes(root) for (root,) in rows)

    def building_the_directory() -> bool:
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
            rows = db.execute("SELECT update_name FROM background_updates").fetchall()
        return any(name.startswith("populate_user_directory") for (name,) in rows)

    try:
        # A new homeserver builds its directory afresh once, which would hide the leftover.
        for _ in range(60):
            if not building_the_directory():
                break
            await asyncio.sleep(0.5)
        assert not building_the_directory()
        async with aiohttp.ClientSession() as http:
            admin, client = await _admin_and_youth(synapse, http)
            status, answer = await client.call(
                "PUT", f"/_matrix/client/v3/profile/{quote(youth)}/displayname",
                {"displayname": nickname})
            assert status == 200, answer
            for _ in range(20):
                if indexed():
                    break
                await asyncio.sleep(0.5)
            assert indexed(), "the nickname never reached the user directory"

            await admin.deactivate(youth, erase=True)

            for _ in range(20):  # the module runs every second
                if not indexed():
                    break
                await asyncio.sleep(0.5)
            assert not indexed(), "the erased nickname stayed in the search index"
    finally:
        await synapse.stop()


@pytest.mark.integration
async def test_an_erased_youths_nickname_and_words_leave_the_database_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A youth's own deletion purges their room and erases their account, and the rows go.
    But Synapse's SQLite connection does not overwrite what it deletes: the nickname (in
    the profile, the member events, the directory) and the words of a chat opened without
    encryption (a youth's first room: `event_json`, and the search index `event_search`,
    whose segments keep a deleted row's words) stayed readable in ``homeserver.db`` and its
    write-ahead log, for anyone with the file, and in every backup made after the erasure
    (the backup copies the file's pages, free ones too). After the module's next run (here
    every second) no byte of them may be left in the database's files."""
    from tests.support.raw_scan import assert_not_on_disk

    synapse = await _synapse_running_the_module(tmp_path, monkeypatch)
    database = synapse.layout.synapse_dir / "homeserver.db"
    youth = f"@sonnenblume:{synapse.settings.server_name}"
    nickname, words = "lenamarieschulz2009", "kanarienvogelwortgelb"
    try:
        async with aiohttp.ClientSession() as http:
            admin, client = await _admin_and_youth(synapse, http)
            status, answer = await client.call(
                "PUT", f"/_matrix/client/v3/profile/{quote(youth)}/displayname",
                {"displayname": nickname})
            assert status == 200, answer
            status, answer = await client.create_room(preset="private_chat")
            assert status == 200, answer
            room = answer["room_id"]
            status, answer = await client.call(
                "PUT", f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/t1",
                {"msgtype": "m.text", "body": f"ich heisse {words} und wohne hier"})
            assert status == 200, answer

            await admin.delete_room_and_wait(room)
            await admin.deactivate(youth, erase=True)

            left: AssertionError | None = None
            for _ in range(40):  # the module runs every second
                try:
                    assert_not_on_disk(database, [nickname, words])
                except AssertionError as exc:
                    left = exc
                    await asyncio.sleep(0.5)
                    continue
                left = None
                break
            assert left is None, f"the erased youth's words stayed on disk: {left}"
    finally:
        await synapse.stop()


@pytest.mark.integration
async def test_emptying_the_log_beside_a_backup_does_not_hold_up_the_homeserver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`counsel backup` reads the database (SQLite's backup API, a read transaction) while
    the homeserver runs. Emptying the write-ahead log must wait for no reader: on
    Synapse's one connection, a checkpoint waiting out the busy timeout (five seconds)
    held every request of the homeserver that long, each run."""
    synapse = await _synapse_running_the_module(tmp_path, monkeypatch)
    database = synapse.layout.synapse_dir / "homeserver.db"
    try:
        async with aiohttp.ClientSession() as http:
            client = MatrixHttp(http, synapse.base_url, await _register(synapse, http,
                                                                        "sonnenblume"))
            reader = sqlite3.connect(database, timeout=10, isolation_level=None)
            try:
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM users").fetchall()  # a backup reading
                slowest = 0.0
                for n in range(12):  # the module runs every second
                    started = time.monotonic()
                    status, answer = await client.call(
                        "PUT", f"/_matrix/client/v3/user/@sonnenblume:"
                        f"{synapse.settings.server_name}/account_data/counsel.test",
                        {"n": n})
                    assert status == 200, answer
                    slowest = max(slowest, time.monotonic() - started)
                    await asyncio.sleep(0.3)
            finally:
                reader.close()
            assert slowest < 2.0, f"a write waited {slowest:.1f} s beside a reading backup"
    finally:
        await synapse.stop()
