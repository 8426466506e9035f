"""`counsel up`: bring the whole service up in one data directory and keep it running.

Order matters: Synapse first (everything talks to it), then provisioning, the entry page,
then the bot; on shutdown the reverse, so nothing runs against a stopped homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import secrets
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from counsel_bot.config import ConfigError, CrisisSettings, Settings, load_settings
from counsel_bot.core.clock import Clock, SystemClock
from counsel_bot.core.errors import BotError
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.opening_hours_text import opening_hours_lines
from counsel_bot.runtime.data_lock import service_exclusive
from counsel_bot.runtime.office_duty import OfficeDuty
from counsel_bot.runtime.offices import office_listings, unreached_offices
from counsel_bot.runtime.readiness import announced
from homeserver_bridge.child_process import tied_to_parent
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.entry_page import EntryPageContent, RunningEntryPage, serve_entry_page
from homeserver_bridge.paths import CONFIG_DIR, DataLayout, write_private
from homeserver_bridge.provision import (
    Account,
    admin_client,
    ensure_accounts,
    reserve_accounts,
)

DEMO_ACCOUNTS = [
    ("counsellor", "beraterin-demo", "Mia (Beraterin)"),
    ("team lead", "teamleitung-demo", "Jonas (Teamleitung)"),
    ("youth", "jugend-demo", "Sonnenblume"),
]


class BotFailed(BotError):
    """The bot child ended on its own with an error; counsel up stopped everything."""


@dataclass(frozen=True)
class Running:
    settings: Settings
    layout: DataLayout
    synapse: EmbeddedSynapse
    bot_account: Account
    demo: list[Account]
    # Staff accounts counsel.toml names that did not exist, made by this start.
    staff_made: tuple[Account, ...] = ()


DEMO_PASSPHRASE_FILE = "vault.passphrase"  # noqa: S105 (a file name)


def first_run_config() -> str:
    """The data directory's own counsel.toml: the documented example, with demo accounts on
    and the vault passphrase in a file beside it (fine for a demo; keep it elsewhere for real)."""
    example = (CONFIG_DIR / "counsel.example.toml").read_text(encoding="utf-8")
    demo_staff = (
        'counsellors = ["@beraterin-demo:counsel.localhost"]\n'
        'team_leads = ["@teamleitung-demo:counsel.localhost"]\n'
    )
    text = example.replace("counsellors = []\nteam_leads = []\n", demo_staff)
    text = text.replace('passphrase_file = ""', f'passphrase_file = "{DEMO_PASSPHRASE_FILE}"')
    return text.replace("accounts = false", "accounts = true")


def resolve_settings(layout: DataLayout, config: Path | None) -> tuple[Settings, Path]:
    """The settings and the config file's directory (relative *_file options start there)."""
    layout.prepare()
    if config is None:
        config = layout.config_file
        if not config.exists():
            # Only a first run is set up: beside a vault, a new passphrase file would replace
            # the one it was made with, and nothing sealed would open again.
            if (layout.bot_dir / "vault.json").exists():
                raise BotError(f"no configuration file {config}, but the bot's data is in "
                               f"{layout.root}; give its configuration with --config FILE "
                               "(e.g. /etc/counsel/counsel.toml), or put it back there")
            write_private(config, first_run_config())
            # A passphrase file already there is kept: its vault may be missing only for
            # now, and restored from the backup (as the bot then says to) it needs this one.
            passphrase = layout.root / DEMO_PASSPHRASE_FILE
            if not passphrase.exists():
                write_private(passphrase, secrets.token_urlsafe(32))
    return load_settings(config), config.resolve().parent


def refuse_foreign_staff(settings: Settings) -> None:
    """`counsel up`'s embedded homeserver talks to nobody (no federation): staff written
    with another server (the web host's name, a typo) could never be invited into a staff
    room, and crisis alerts and pages would go to a room without them. An external
    homeserver ([homeserver] url), and the one beside `counsel bot`, may federate with
    partner offices (docs/scaling.md)."""
    if settings.homeserver.url:
        return
    server = settings.homeserver.server_name
    lists = [("staff", (*settings.staff.counsellors, *settings.staff.team_leads))]
    lists += [(f"office {o.id!r}", (*o.counsellors, *o.team_leads)) for o in settings.offices]
    for where, users in lists:
        for user in users:
            if user.partition(":")[2] != server:
                raise ConfigError(
                    f"{where}: {user} is on another server than [homeserver] server_name "
                    f"{server!r}, and this homeserver talks to no other; write the id as "
                    f"{user.partition(':')[0]}:{server}")


def refuse_demo_staff(settings: Settings) -> None:
    """The demo's counsellor and team lead, left in [staff] once the demo is switched off:
    their passwords were printed at every start (a terminal, the journal) and are in
    bridge/accounts.json, so whoever read one would sign in as staff of the real office."""
    if settings.demo.accounts:
        return
    server = settings.homeserver.server_name
    demo = {f"@{localpart}:{server}" for _, localpart, _ in DEMO_ACCOUNTS}
    for where, users in settings.staff_lists():
        for user in users:
            if user in demo:
                raise ConfigError(
                    f"{where}: {user} is a demo account ([demo] accounts = true printed its "
                    "password at every start), and the demo is switched off: take it out "
                    "and name the real staff")


def bot_account(settings: Settings) -> str:
    return f"@{settings.bot.localpart}:{settings.homeserver.server_name}"


def trusted_accounts(settings: Settings) -> tuple[str, ...]:
    """The accounts the homeserver's contact rules leave alone: the bot, and every
    counsellor and team lead (of every office). Everybody else is a youth to it."""
    bot = bot_account(settings)
    staff = [*settings.staff.counsellors, *settings.staff.team_leads]
    for office in settings.offices:
        staff += [*office.counsellors, *office.team_leads]
    return (bot, *staff)


async def start(layout: DataLayout, settings: Settings) -> Running:
    synapse = EmbeddedSynapse(settings.homeserver, layout, trusted=trusted_accounts(settings),
                              bots=[bot_account(settings)])
    await synapse.start()
    try:
        async with aiohttp.ClientSession() as session:
            admin = await admin_client(synapse.base_url, layout, session)
            wanted = [("bot", settings.bot.localpart, settings.bot.display_name)]
            if settings.demo.accounts:
                wanted += DEMO_ACCOUNTS
            record = layout.bridge_dir / "accounts.json"
            accounts = await ensure_accounts(
                admin, settings.homeserver.server_name, wanted, record
            )
            await admin.override_ratelimit(accounts[0].user_id)
            # Counsel trusts staff by name: one nobody had would go to whoever signs up first.
            # Only its own: a partner office's (with [homeserver] url) is theirs to make.
            server = settings.homeserver.server_name
            staff = [u for u in dict.fromkeys(trusted_accounts(settings)[1:])
                     if u.partition(":")[2] == server]
            made = await reserve_accounts(admin, layout, staff, record)
    except BaseException:
        await synapse.stop()
        raise
    return Running(settings, layout, synapse, accounts[0], accounts[1:], tuple(made))


@dataclass
class EntryPageService:
    """The entry page with the HTTP session its token button uses, stopped together."""

    page: RunningEntryPage
    session: aiohttp.ClientSession
    # With offices: the task reading who is on duty, and what stops it.
    duty_task: asyncio.Task[None] | None = None
    duty_stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return self.page.url

    async def stop(self) -> None:
        if self.duty_stop is not None and self.duty_task is not None:
            self.duty_stop.set()
            await self.duty_task
        try:
            await self.page.stop()
        finally:
            await self.session.close()


def helplines_differ(settings: Settings) -> str | None:
    """A warning when the chat's emergency numbers were changed but the entry page still
    lists the German helplines: a youth would be sent to other lines there than in the
    chat (an office outside Germany to German ones). None when they agree as far as this
    can tell, or the page is off."""
    default = CrisisSettings()
    chat_changed = (settings.crisis.emergency_de, settings.crisis.emergency_en) != (
        default.emergency_de, default.emergency_en)
    if not settings.entry_page.enabled or settings.entry_page.emergency_numbers \
            or not chat_changed:
        return None
    return ("[crisis] emergency_de / emergency_en are changed, but the entry page still lists "
            "the German helplines: list the office's own under [[entry_page.emergency_numbers]] "
            "(name_de, numbers, note_de) in counsel.toml")


def plain_http_listeners(settings: Settings) -> list[str]:
    """Each listener open to the network without TLS in front, and what to set: messages
    stay end-to-end encrypted there, but the keys to the accounts (Matrix passwords and
    access tokens, a lead's sign-in and session cookie, the sign-up codes) do not. Only what
    the settings can tell: a proxy in front is known from the options that name one."""
    hs, web, page = settings.homeserver, settings.web, settings.entry_page
    listeners = [  # (section, who, address, port, plain, what crosses readable, the fix)
        ("homeserver", "Synapse", hs.bind_address, hs.port,
         not hs.url and not hs.public_base_url.startswith("https://"),
         "passwords and access tokens",
         'Put a TLS proxy in front and set public_base_url = "https://..." and '
         "behind_proxy = true"),
        ("web", "the team-lead view", web.bind_address, web.port,
         web.enabled and not web.cookie_secure, "a lead's password and session",
         "Serve it through a TLS proxy and set cookie_secure = true (and trusted_proxies)"),
        ("entry_page", "the entry page", page.bind_address, page.port,
         page.enabled and not page.trusted_proxies, "the sign-up codes it hands out",
         "Serve it through a TLS proxy and name the proxy in trusted_proxies"),
    ]
    return [f"[{section}] {who} listens on {address}:{port} in plain HTTP: {what} cross "
            f"the network readable. {fix}"
            for section, who, address, port, plain, what, fix in listeners
            if plain and _open(address)]


def _open(address: str) -> bool:
    return not ipaddress.ip_address(address).is_loopback


def entry_page_content(running: Running, clock: Clock) -> EntryPageContent:
    settings = running.settings
    hours = OpeningHours.from_dict(settings.opening_hours.as_dict())
    today = clock.now().astimezone(hours.timezone).date()
    # The page keeps its own structured emergency numbers: crisis.emergency_* is free text
    # written for chat messages, not something the page can lay out as callable numbers.
    return EntryPageContent(
        emergency_numbers=settings.entry_page.helplines(),
        homeserver_url=settings.homeserver.advertised_url,
        server_name=settings.homeserver.server_name,
        bot_user_id=running.bot_account.user_id,
        registration=settings.homeserver.registration,
        opening_hours=opening_hours_lines(hours, since=today),
        office_name=settings.entry_page.office_name,
        offices=office_listings(settings, today),
    )


async def start_entry_page(running: Running, clock: Clock) -> EntryPageService | None:
    """Serve the entry page if it is enabled; its session lives as long as the page, since
    every press of the token button is an admin API call."""
    config = running.settings.entry_page
    if not config.enabled:
        return None
    content = entry_page_content(running, clock)
    session = aiohttp.ClientSession()
    try:
        admin = await admin_client(running.synapse.base_url, running.layout, session)
        duty = OfficeDuty.for_settings(running.settings)
        page = await serve_entry_page(content, config.page_settings(), admin, clock,
                                      on_duty=duty)
    except BaseException:
        await session.close()
        raise
    if duty is None:
        return EntryPageService(page, session)
    stop = asyncio.Event()
    task = asyncio.create_task(duty.run(session, stop))
    return EntryPageService(page, session, task, stop)


def banner(running: Running, entry_page_url: str | None = None) -> str:
    hs = running.settings.homeserver
    bot = running.bot_account.user_id
    lines = [
        "",
        "counsel is running.",
        f"  Homeserver:        {hs.advertised_url}",
        f"  Counselling chat:  https://matrix.to/#/{bot}   ({bot})",
    ]
    if entry_page_url is not None:
        lines.append(f"  Entry page:        {entry_page_url}")
    web = running.settings.web
    if web.enabled:
        host = f"[{web.bind_address}]" if ":" in web.bind_address else web.bind_address
        lines.append(f"  Team-lead view:    http://{host}:{web.port}/dashboard"
                     "   (a team lead's Matrix login)")
    lines += [
        f"  Data directory:    {running.layout.root.resolve()}",
        "",
    ]
    if running.demo:
        lines.append("Demo accounts (passwords are kept in bridge/accounts.json):")
        for account in running.demo:
            lines.append(f"  {account.role:<11} {account.user_id:<36} password: {account.password}")
        lines.append("")
    if (differ := helplines_differ(running.settings)) is not None:
        lines += [f"Warning: {differ}.", ""]
    if plain := plain_http_listeners(running.settings):
        lines += [*(f"Warning: {line}." for line in plain), ""]
    for unreached in unreached_offices(running.settings):
        lines += [f"Warning: {unreached}.", ""]
    if running.staff_made:
        lines.append("Staff accounts made now: counsel.toml names them, and nobody had them "
                     "(anyone could have signed up")
        lines.append("with these names and been taken for staff). Their passwords are in "
                     f"{running.layout.bridge_dir / 'accounts.json'}:")
        lines += [f"  {account.user_id}" for account in running.staff_made]
        lines.append("Hand each its password; they change it in their app.")
        lines.append("")
    lines += [
        "To log in with Element, FluffyChat or any Matrix app: choose 'Sign in', change the",
        f"homeserver to {hs.advertised_url}, and use one of the accounts above.",
        f"A youth starts a direct chat with {bot}.",
        "Counsellors accept the bot's invitation to the staff room and write '!duty on' there.",
    ]
    if entry_page_url is not None:
        lines.append(f"The entry page {entry_page_url} shows a youth the way, step by step.")
    lines += [
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class BotProcess:
    process: asyncio.subprocess.Process
    ready_pipe: int  # read end: the bot writes its ready line to the other end


async def start_bot_process(layout: DataLayout, config: Path) -> BotProcess:
    """The bot runs as its own process: one process per device, and it can be killed alone.
    Like Synapse it has a session of its own and ends with counsel (see child_process)."""
    read_end, write_end = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "counsel_bot.cli", "bot",
            "--data", str(layout.root), "--config", str(config),
            "--ready-fd", str(write_end),
            stdin=asyncio.subprocess.DEVNULL,
            pass_fds=(write_end,),
            start_new_session=True,
            # SIGKILL, not SIGTERM: a bot still starting retries its requests to the homeserver
            # (dying with counsel too) and would not stop; it is built to survive a SIGKILL.
            preexec_fn=tied_to_parent(signal.SIGKILL),
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        # Only the bot holds the write end: when it ends, the pipe ends.
        os.close(write_end)
    return BotProcess(process, read_end)


# How long `counsel up` waits for its bot child to stop before killing it: longer than the
# bot gives itself to end its loop and perform what is pending (runner.STOP_WITHIN_SECONDS),
# plus closing its store and web server, so a slow drain is never cut in the middle. Not
# imported from the runner: that would load the bot's dependencies into this parent.
BOT_STOP_GRACE = 32.0
# The bot's status when it lost the active role (runtime/standby.EXIT_LOST_ROLE): start it
# again. Not imported either, for the same reason.
BOT_LOST_ROLE = os.EX_TEMPFAIL


async def stop_process(process: asyncio.subprocess.Process,
                       grace_period: float = BOT_STOP_GRACE) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace_period)
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclass(frozen=True)
class BotEnd:
    """How the bot child (or the homeserver under it) ended when nobody asked it to."""

    status: int
    started: bool  # it had said it was ready
    homeserver: Path | None = None  # Synapse ended, not the bot: its log

    def failure(self) -> str | None:
        if self.homeserver is not None:
            # Whatever its status: a service without its homeserver serves nobody.
            return (f"the homeserver stopped (exit status {self.status}; its log is "
                    f"{self.homeserver}), so counsel stopped the bot too; run counsel up "
                    "again (systemd's Restart=on-failure does)")
        if self.status == 0:
            return None
        return (f"the bot {'stopped' if self.started else 'did not start'} (exit status "
                f"{self.status}; its own message is above), so counsel stopped; fix what it "
                "says and run counsel up again")


async def watch_bot(
    bot: BotProcess, stop: asyncio.Event, on_started: Callable[[], None],
    homeserver: EmbeddedSynapse | None = None,
) -> BotEnd | None:
    """Call `on_started` once the bot says it has started; return at a stop (None) or when
    the bot, or the homeserver, ends on its own, whichever comes first. Without watching the
    homeserver, one killed under the service (the OOM killer) left it running for good,
    its bot syncing in vain and its supervisor none the wiser."""
    bot_exit = asyncio.create_task(bot.process.wait())
    stopped = asyncio.create_task(stop.wait())
    ready = asyncio.create_task(announced(bot.ready_pipe))
    ends = {bot_exit, stopped}
    homeserver_exit = None
    if homeserver is not None:
        homeserver_exit = asyncio.create_task(homeserver.exited())
        ends.add(homeserver_exit)
    try:
        await asyncio.wait({ready, *ends}, return_when=asyncio.FIRST_COMPLETED)
        started = ready.done() and ready.result()
        if started:
            on_started()
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (ready, *ends):
            task.cancel()
    # The homeserver first: a bot that ended with it most likely ended because of it.
    if homeserver is not None and homeserver_exit is not None and homeserver_exit.done() \
            and not homeserver_exit.cancelled():
        return BotEnd(homeserver_exit.result(), started, homeserver.log_path)
    return BotEnd(bot_exit.result(), started) if bot_exit.done() else None


async def serve(
    layout: DataLayout, settings: Settings, config: Path, out: Callable[[str], None]
) -> None:
    """Run everything until Ctrl-C or SIGTERM; raise BotFailed if the bot fails on its own."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = await start(layout, settings)
    try:
        # Unwinds in reverse: the bot, then the entry page, then Synapse.
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(running.synapse.stop)
            entry_page = await start_entry_page(running, SystemClock())
            if entry_page is not None:
                stack.push_async_callback(entry_page.stop)
            page_url = entry_page.url if entry_page is not None else None
            announced_once: list[bool] = []

            def on_started() -> None:
                # The banner says "running" and hands out passwords: only once the bot is,
                # and once: a bot started again after losing the active role is no news.
                if not announced_once:
                    announced_once.append(True)
                    out(banner(running, page_url))
                else:
                    out("The bot is the active one again.")

            while True:
                bot = await start_bot_process(layout, config)
                stack.push_async_callback(stop_process, bot.process)
                end = await watch_bot(bot, stop, on_started, running.synapse)
                if end is None or end.homeserver is not None or end.status != BOT_LOST_ROLE:
                    break
                # PostgreSQL store: its lock session ended (a database restart, a standby
                # that took over). It stopped acting; started again, it waits as a standby.
                out("The bot lost the active role (its lock session to PostgreSQL ended); "
                    "starting it again, as a standby until it takes over.")
            if end is None:
                out("Stopping ...")
            elif end.homeserver is not None:
                out(f"The homeserver stopped (exit status {end.status}); stopping the bot.")
            else:
                out(f"The bot stopped (exit status {end.status}); stopping the homeserver.")
        failure = None if end is None else end.failure()
        if failure is not None:
            # Raised once everything is stopped: a supervisor (systemd's Restart=on-failure,
            # make) must see the failure, not a clean stop.
            raise BotFailed(failure)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def run_up(data: Path, config: Path | None) -> int:
    layout = DataLayout(data)
    layout.prepare()
    # Before anything is read or written: a second counsel up on this directory would start
    # a second Synapse on the same database and rewrite its config and accounts.
    with service_exclusive(layout.root):
        settings, _config_dir = resolve_settings(layout, config)
        refuse_foreign_staff(settings)
        refuse_demo_staff(settings)
        config_file = config.resolve() if config else layout.config_file.resolve()
        printer = lambda text: print(text, flush=True, file=sys.stdout)  # noqa: E731
        asyncio.run(serve(layout, settings, config_file, printer))
    return 0


def run_bot_only(data: Path, config: Path | None, ready_fd: int | None = None) -> int:
    from counsel_bot.runtime.runner import main_bot

    layout = DataLayout(data)
    # No refuse_foreign_staff: this bot's homeserver is not started here (deploy/ derives its
    # address from bind_address and port) and may federate with partner offices.
    settings, config_dir = resolve_settings(layout, config)
    return main_bot(settings, layout, config_dir, ready_fd)
