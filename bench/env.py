"""A throwaway homeserver and bot processes for benchmarks, all on loopback.

Synapse runs hardened as in production except for rate limits (generous, as in the tests:
a benchmark sends faster than any youth). The counsel bot and the echo bot each run as their
own process, so neither shares the benchmark clients' event loop and the bot's RSS is its own.

With ``COUNSEL_SCALEOUT_URL`` set (``deploy/scaleout.sh --bench CMD`` sets it, with
``COUNSEL_SCALEOUT_DATA`` and ``COUNSEL_SCALEOUT_SERVER_NAME``), the benchmarks use that
homeserver instead: Synapse on PostgreSQL with a worker. Its rate limits stay as deployed;
the benchmark lifts them only for the accounts it makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.contact_rules import read_trusted_file, write_trusted
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import DataLayout, write_private
from homeserver_bridge.provision import admin_client
from homeserver_bridge.settings import HomeserverSettings, RateLimit, RateLimits

SERVER_NAME = "bench.localhost"
PASSPHRASE = "bench vault passphrase, never used for real data"
GENEROUS = RateLimits(
    messages=RateLimit(1000.0, 10000),
    logins=RateLimit(1000.0, 10000),
    registrations=RateLimit(1000.0, 10000),
)
REPO = Path(__file__).resolve().parents[1]


def interrupt_on_sigterm() -> None:
    """SIGTERM as Ctrl-C: asyncio.run then unwinds, and every finally stops its processes."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


@dataclass
class Homeserver:
    settings: HomeserverSettings
    base_url: str
    layout: DataLayout
    admin: AdminClient
    root: Path
    external: bool = False
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def server_name(self) -> str:
        return self.settings.server_name

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    def trust(self, bot: str, *staff: str) -> None:
        """Name a bot and its staff to the homeserver's contact rules, as `counsel up` does
        (the scale-out's Synapse reads the same file in its data directory)."""
        path = self.layout.trusted_accounts_file
        known = read_trusted_file(path)
        write_trusted(path, known.staff | set(staff), bots=known.bots | {bot})

    async def register(self, prefix: str) -> Account:
        """A user with a password and a fresh device (registration returns its token)."""
        localpart = f"{prefix}-{next(self._names)}-{secrets.token_hex(2)}"
        password = secrets.token_urlsafe(12)
        secret = self.layout.registration_secret_file.read_text(encoding="utf-8").strip()
        made = await self.admin.register_with_shared_secret(secret, localpart, password)
        if self.external:
            await self.admin.override_ratelimit(made.user_id)
        return Account(made.user_id, password, made.access_token, made.device_id)

    async def register_many(self, prefix: str, count: int, parallel: int = 8) -> list[Account]:
        gate = asyncio.Semaphore(parallel)

        async def one() -> Account:
            async with gate:
                return await self.register(prefix)

        return list(await asyncio.gather(*(one() for _ in range(count))))

    async def passwordless_users(self, prefix: str, count: int) -> list[str]:
        """Accounts that exist (so invites to them succeed) but never log in: no hashing."""
        ids = [self.user_id(f"{prefix}-{i}-{secrets.token_hex(2)}") for i in range(count)]
        gate = asyncio.Semaphore(8)

        async def one(user_id: str) -> None:
            async with gate:
                await self.admin.upsert_user(user_id)

        await asyncio.gather(*(one(u) for u in ids))
        return ids


@contextlib.asynccontextmanager
async def homeserver(root: Path) -> AsyncIterator[Homeserver]:
    url = os.environ.get("COUNSEL_SCALEOUT_URL")
    try:
        if url:
            async with _external(root, url) as hs:
                yield hs
            return
        async with _embedded(root) as hs:
            yield hs
    except BaseException:
        # The processes' logs live in ``root``, a temporary directory gone with this failure.
        print_log_tails(root)
        raise


def print_log_tails(root: Path, lines: int = 30) -> None:
    """The end of every benchmark process's log (the counsel bot's, the echo bot's)."""
    for log in sorted(root.glob("*/*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last {len(tail)} lines of {log.relative_to(root)} ---", file=sys.stderr)
        print("\n".join(tail), file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def _external(root: Path, url: str) -> AsyncIterator[Homeserver]:
    layout = DataLayout(Path(os.environ["COUNSEL_SCALEOUT_DATA"]))
    settings = HomeserverSettings(server_name=os.environ["COUNSEL_SCALEOUT_SERVER_NAME"],
                                  url=url)
    async with aiohttp.ClientSession() as http:
        admin = await admin_client(url, layout, http)
        yield Homeserver(settings, url, layout, admin, root, external=True)


@contextlib.asynccontextmanager
async def _embedded(root: Path) -> AsyncIterator[Homeserver]:
    layout = DataLayout(root / "homeserver")
    layout.prepare()
    settings = HomeserverSettings(server_name=SERVER_NAME, port=free_port(),
                                  rate_limits=GENEROUS, start_timeout=120.0)
    synapse = EmbeddedSynapse(settings, layout, trusted=())  # each bot is named as it is made
    await synapse.start()
    try:
        async with aiohttp.ClientSession() as http:
            admin = await admin_client(synapse.base_url, layout, http)
            yield Homeserver(settings, synapse.base_url, layout, admin, root)
    finally:
        await synapse.stop()


# -- processes ------------------------------------------------------------------------------


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in KiB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


@dataclass
class ChildProcess:
    """A benchmark subprocess whose output goes to a log file, stopped with SIGTERM."""

    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        """Spawn; return the perf_counter time just before the spawn."""
        started = time.perf_counter()
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
                cwd=REPO, env={**os.environ, **self.env}, start_new_session=True,
            )
        return started

    @property
    def pid(self) -> int:
        assert self.process is not None, "the process was not started"
        return self.process.pid

    def check_alive(self) -> None:
        if self.process is not None and self.process.returncode is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.argv[2]} exited with {self.process.returncode}:\n{tail}")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def counsel_config(hs: Homeserver, localpart: str, counsellors: Sequence[str],
                   capacity: int, store_url: str | None = None, model: bool = True,
                   extra: str = "") -> str:
    """The bot's TOML; ``extra`` is appended as is (more sections, e.g. ``[[offices]]``)."""
    limits = "{ per_second = 1000.0, burst = 10000 }"
    where = f'url = "{hs.base_url}"' if hs.external else f"port = {hs.settings.port}"
    return "\n".join([
        "[homeserver]",
        f'server_name = "{hs.server_name}"',
        where,
        "[homeserver.rate_limits]",
        f"messages = {limits}", f"logins = {limits}", f"registrations = {limits}",
        "[bot]",
        f'localpart = "{localpart}"',
        "[web]",  # a port of its own: another bot (the scale-out's) may hold the default
        f"port = {free_port()}",
        "[staff]",
        f"counsellors = {_toml_list(counsellors)}",
        f"default_capacity = {capacity}",
        *([] if store_url is None else ["[store]", f"url = {json.dumps(store_url)}"]),
        "[crisis]",
        f"model = {'true' if model else 'false'}",
        extra,
        "",
    ])


async def provision_counsel_bot(
    hs: Homeserver, name: str, counsellors: Sequence[str], capacity: int,
    store_url: str | None = None, model: bool = True, extra: str = "",
) -> ChildProcess:
    """A data directory laid out as `counsel up` does, and `counsel bot` ready to start
    (with the crisis model unless ``model`` is false: rules alone, as a control)."""
    data = hs.root / name
    layout = DataLayout(data)
    layout.prepare()
    bot = await hs.register("bot")
    write_private(layout.bridge_dir / "accounts.json", json.dumps(
        [{"role": "bot", "user_id": bot.user_id, "password": bot.password,
          "display_name": "Beratung"}]))
    await hs.admin.override_ratelimit(bot.user_id)
    hs.trust(bot.user_id, *counsellors)
    localpart = bot.user_id[1:].split(":", 1)[0]
    config = data / "counsel.toml"
    write_private(config, counsel_config(hs, localpart, counsellors, capacity, store_url,
                                         model, extra))
    argv = [sys.executable, "-m", "counsel_bot.cli", "bot", "--data", str(data),
            "--config", str(config)]
    child = ChildProcess(argv, data / "bot.log", {"COUNSEL_VAULT_PASSPHRASE": PASSPHRASE})
    child.env["BENCH_BOT_USER"] = bot.user_id  # read back by bot_user_of()
    return child


def bot_user_of(child: ChildProcess) -> str:
    return child.env["BENCH_BOT_USER"]


def bot_data_of(child: ChildProcess) -> Path:
    return Path(child.argv[child.argv.index("--data") + 1])


async def provision_echo_bot(hs: Homeserver, invite: Sequence[str] = (),
                             alert: bool = False) -> ChildProcess:
    """The echo bot; with ``invite``, the bare invite bot instead, and with ``alert`` also
    the bare alert bot (bench.echo_bot)."""
    name = "alert" if alert else "invite" if invite else "echo"
    account = await hs.register(name)
    await hs.admin.override_ratelimit(account.user_id)
    hs.trust(account.user_id)
    store = hs.root / f"{name}-bot"
    store.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "bench.echo_bot", "--homeserver", hs.base_url,
            "--user", account.user_id, "--device", account.device_id, "--store", str(store)]
    for user in invite:
        argv += ["--invite", user]
    if alert:
        argv.append("--alert")
    child = ChildProcess(argv, store / f"{name}.log",
                         {"BENCH_ECHO_TOKEN": account.access_token})
    child.env["BENCH_BOT_USER"] = account.user_id
    return child
