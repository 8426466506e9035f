"""`counsel bot`: open the vault, restore the device, cross-sign it, then run the loop.

Cross-signing comes before the bot joins or answers anything: Element in strict mode withholds
room keys from a device its owner has not signed, and a youth's client only re-checks later.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from nio import AsyncClient

from counsel_bot.channels import erasure_journal
from counsel_bot.channels.mail.codes import ChatLink
from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.channels.matrix import said_elsewhere
from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.matrix.group_rooms import GroupRooms
from counsel_bot.channels.matrix.nio_erasure import forget_in_nio
from counsel_bot.channels.matrix.room_moves import PurgingFirstRooms
from counsel_bot.channels.matrix.room_settings import ENCRYPTION, counselling_power_levels
from counsel_bot.channels.matrix.session import SessionFile, connect
from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor, Policy
from counsel_bot.conversation.forum import ForumDesk
from counsel_bot.conversation.groups import GroupDesk
from counsel_bot.conversation.idle_rooms import Forget, Needed, run_idle_rooms
from counsel_bot.conversation.retention import (
    BeforeErase,
    RoomPurger,
    Serial,
    is_due,
    prune_bookkeeping,
    run_retention,
)
from counsel_bot.core.clock import Clock, SystemClock
from counsel_bot.core.crisis import CombinedDetector, default_lexicon_dir, default_model_path
from counsel_bot.core.errors import BotError
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing.model import Role, RouterConfig
from counsel_bot.core.video import VideoError, VideoSettings, check_secret
from counsel_bot.metrics import CounselMetrics
from counsel_bot.office_metrics import OfficeMetrics
from counsel_bot.runtime import crash_report
from counsel_bot.runtime.crisis_detector import bounded_judge, load_detector
from counsel_bot.runtime.data_lock import confirm_store, exclusive
from counsel_bot.runtime.legacy_settings import move_legacy_sealed_settings
from counsel_bot.runtime.offices import office_book, office_rules, office_staff, retention_by_office
from counsel_bot.runtime.readiness import announcer
from counsel_bot.runtime.reports import reports_loop
from counsel_bot.runtime.standby import run_when_active
from counsel_bot.runtime.store_choice import (
    SQLITE,
    refuse_after_postgresql,
    refuse_beside_another_store,
)
from counsel_bot.runtime.stores import DATABASE_FILE, open_store
from counsel_bot.store import ConversationRecord, Store
from counsel_bot.store.leadership import Term
from counsel_bot.web import MatrixPasswordAuth, RouterDashboardSource, build_web_app, start_web
from counsel_bot.web.second_factor import StoreSecondFactors
from e2e.atomic_file import create_exclusively
from e2e.cross_signing import CrossSigningSeeds
from e2e.cross_signing_upload import ensure_cross_signed
from e2e.errors import VaultLost
from e2e.vault import Vault, passphrase_from_env_or_file
from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.mail import MailSender, start_inbound
from homeserver_bridge.paths import DataLayout, exposed

log = logging.getLogger(__name__)

SEEDS_CONTEXT = b"counsel/cross-signing-seeds/v1"
# Files in the bot's directory that only exist once a vault sealed something.
_SEALED_BY_THE_VAULT = (DATABASE_FILE, "nio/session.sealed", "cross_signing.sealed")
LAST_RETENTION_KEY = "retention:last_run"
# The Matrix device all bots of an office act as (active/standby on PostgreSQL).
OFFICE_DEVICE_KEY = "bot:device"
SESSION_FILE = "nio/session.sealed"
# A long poll (5 s) and the outbox's grace (10 s), with room to spare; systemd waits 90 s.
STOP_WITHIN_SECONDS = 25
# A passphrase chosen now (a new vault's, `vault rotate`'s new one, a backup's): whoever
# copies the files it seals can guess it offline. One only opened is never measured: a
# restore opens what any earlier backup sealed.
MIN_NEW_PASSPHRASE = 12


def require_new_passphrase(passphrase: str, named: str, exposure: str) -> None:
    """Refuse a short passphrase being chosen; ``named``: where the admin set it,
    ``exposure``: who could guess it, and how."""
    length = len(passphrase.strip())
    if length < MIN_NEW_PASSPHRASE:
        raise BotError(f"{named} has {length} characters; give it at least "
                       f"{MIN_NEW_PASSPHRASE} characters (e.g. `openssl rand -base64 24`): "
                       f"{exposure}")


def open_vault(settings: Settings, layout: DataLayout, config_dir: Path) -> Vault:
    configured = settings.vault.passphrase_file
    file = (config_dir / configured) if configured else None
    passphrase = passphrase_from_env_or_file(settings.vault.passphrase_env, file)
    path = layout.bot_dir / "vault.json"
    if not path.exists():
        # Only a first start creates the vault: beside data an older one sealed, a new vault
        # opens none of it and seals what comes next under keys no backup holds.
        sealed = [name for name in _SEALED_BY_THE_VAULT if (layout.bot_dir / name).exists()]
        if sealed:
            raise VaultLost(path, ", ".join(sealed))
        # Only a new vault: one made before opens under whatever it was made with.
        require_new_passphrase(
            passphrase, f"the vault passphrase ({settings.vault.passphrase_env} or "
            "vault.passphrase_file) of a new vault",
            "whoever copies the data directory can guess a short one offline")
    return Vault.open_or_create(path, passphrase)


def bot_password(layout: DataLayout, user_id: str) -> str:
    record = layout.bridge_dir / "accounts.json"
    try:
        accounts = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        accounts = []
    found = [str(a["password"]) for a in accounts if a["user_id"] == user_id]
    if not found:
        # Written by `counsel up` (or deploy/provision.py); a [bot] localpart changed since
        # names an account nobody made.
        raise BotError(f"no password for the bot's account {user_id} in {record}; run "
                       "counsel up once on this data directory (or deploy/provision.py), or "
                       "set [bot] localpart back to the account it made")
    return found[0]


def load_or_create_seeds(vault: Vault, path: Path) -> CrossSigningSeeds:
    """The cross-signing identity is made once and reused: a new one on every start would
    make Element warn the youth that the bot's identity was reset."""
    if path.exists():
        sealed = path.read_bytes()
        return CrossSigningSeeds.from_bytes(vault.open_sealed(sealed, context=SEEDS_CONTEXT))
    seeds = CrossSigningSeeds.generate()
    # Whole and on disk (0600) before the seeds are published, or not there at all: half a
    # file would stop every later start, and seeds lost after publishing reset the identity.
    create_exclusively(path, vault.seal(seeds.to_bytes(), context=SEEDS_CONTEXT))
    return seeds


async def cross_sign(client: AsyncClient, vault: Vault, layout: DataLayout, password: str) -> None:
    if client.should_upload_keys:
        await client.keys_upload()
    seeds = load_or_create_seeds(vault, layout.bot_dir / "cross_signing.sealed")
    async with aiohttp.ClientSession() as http:
        uploaded = await ensure_cross_signed(
            http, client.homeserver, client.access_token, client.user_id, client.device_id,
            seeds, password,
        )
    log.info("cross-signing %s", "published" if uploaded else "already in place")


def policy_from(settings: Settings) -> Policy:
    # The stronger role wins: an office's lead whom [staff] counsellors names too (the
    # list kept from before offices) still leads it; where, the office rules say (rule 7).
    staff = office_staff(settings)
    for user in settings.staff.counsellors:
        staff.setdefault(UserID(user), Role.COUNSELLOR)
    staff |= {UserID(u): Role.TEAM_LEAD for u in settings.staff.team_leads}
    return Policy(
        default_language=settings.bot.default_language,
        staff=staff,
        team_leads=tuple(UserID(u) for u in settings.staff.team_leads),
        hours=OpeningHours.from_dict(settings.opening_hours.as_dict()),
        emergency={"de": settings.crisis.emergency_de, "en": settings.crisis.emergency_en},
        escalate_after=timedelta(minutes=settings.crisis.escalate_after_minutes),
        video=settings.video,
        video_secret=_video_secret(settings.video),
        refuse_unsigned_devices=settings.staff.unsigned_devices == "refuse",
        timers=settings.timers.timer_settings(),
        snippets={s.name.casefold(): s.text for s in settings.snippets},
        appointments=settings.appointments,
        router=RouterConfig(
            auto_assign=settings.routing.auto_assign,
            default_capacity=settings.staff.default_capacity,
            default_languages=(settings.bot.default_language,),
            offices=office_rules(settings),
        ),
        offices=office_book(settings),
    )


def _video_secret(video: VideoSettings) -> str | None:
    """The Jitsi app secret, checked now: a weak one stops the start, not the first call."""
    secret = _read_secret(video.jitsi_app_secret_file)
    if secret is not None and video.enabled and video.token_auth:
        try:
            check_secret(secret)
        except VideoError as exc:
            raise BotError(f"{exc} (or fix the path in counsel.toml)") from None
    return secret


def _read_secret(path: str) -> str | None:
    if not path:
        return None
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
        problem = exposed(Path(path))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a usable path"
        raise BotError(f"cannot read the secret file {path!r} ({reason}); fix the "
                       "path in counsel.toml") from None
    if problem:
        raise BotError(f"the secret file {problem} (or fix the path in counsel.toml)")
    return secret


async def run_bot(
    settings: Settings,
    layout: DataLayout,
    config_dir: Path,
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    on_ready: Callable[[CounselBot], None] | None = None,
) -> None:
    clock = clock or SystemClock()
    detector = _load_detector_meanwhile(settings)
    if not settings.store.postgres:
        # Its database is in the directory: a bot of PostgreSQL given it too is refused, not
        # ended as a hung former active bot of its own.
        with exclusive(layout.bot_dir, "starting another bot", store=SQLITE) as last:
            refuse_after_postgresql(layout.bot_dir, last)
            confirm_store(layout.bot_dir)
            await _run_bot(settings, layout, config_dir, stop, clock, on_ready, None, detector)
        return

    async def run(term: Term) -> None:
        await _run_bot(settings, layout, config_dir, stop, clock, on_ready, term, detector)

    if (layout.bot_dir / "vault.json").exists():
        # A standby whose passphrase opens nothing would say so only at the takeover, when
        # the active bot has died and the office needs it: said at its start instead. Opened
        # again at the takeover (a rotation may have changed the vault meanwhile).
        await asyncio.to_thread(open_vault, settings, layout, config_dir)
    policy_from(settings)  # the same for the secret files the configuration names
    # PostgreSQL: any number of bots, one active; the others wait here as standbys.
    await run_when_active(settings.store, config_dir, layout.bot_dir, stop, run)


def _load_detector_meanwhile(settings: Settings) -> asyncio.Future[CombinedDetector]:
    """Start reading the crisis detector in a worker thread. The model's weights take a
    second or two: read meanwhile, they cost nothing beside the vault, the login and the
    store, and a standby has them ready when it takes over."""
    lexicons = default_lexicon_dir()
    if settings.crisis.lexicon_dir:
        lexicons = Path(settings.crisis.lexicon_dir)
    model = None
    if settings.crisis.model:
        model = Path(settings.crisis.model_file or default_model_path())
    loading = asyncio.ensure_future(asyncio.to_thread(load_detector, lexicons, model))
    # A start that fails before it needs the detector must not also warn about this task.
    loading.add_done_callback(lambda done: done.cancelled() or done.exception())
    return loading


async def _run_bot(
    settings: Settings,
    layout: DataLayout,
    config_dir: Path,
    stop: asyncio.Event,
    clock: Clock,
    on_ready: Callable[[CounselBot], None] | None,
    term: Term | None,
    loading: asyncio.Future[CombinedDetector],
) -> None:
    vault = await asyncio.to_thread(open_vault, settings, layout, config_dir)
    user_id = f"@{settings.bot.localpart}:{settings.homeserver.server_name}"
    store = await open_store(settings.store, layout.bot_dir, config_dir, vault,
                             epoch=None if term is None else term.epoch)
    try:
        if term is not None:
            await refuse_beside_another_store(store, layout.bot_dir, term)
            confirm_store(layout.bot_dir)
            await refuse_another_device(store, SessionFile(layout.bot_dir / SESSION_FILE,
                                                           vault))
        password = bot_password(layout, user_id)
        # Before the login: a restored copy that cannot read its journal does not log in.
        journal = erasure_journal_of(settings, layout)
        due = layout.bot_dir / erasure_journal.DUE_MARKER
        erased = [] if journal is None else await asyncio.to_thread(
            erasure_journal.at_start, journal, restored=due.exists())
        client = await connect(
            settings.homeserver.bot_url, user_id, password, layout.bot_dir / "nio", vault
        )
    except BaseException:
        await store.close()
        raise
    stack = contextlib.AsyncExitStack()
    try:
        if term is not None:
            # Remembered for the office's other bots (a first start, or a new login after
            # the old one was revoked), once this one acts as that device.
            await store.set_setting(OFFICE_DEVICE_KEY, client.device_id)
        # Active now, and before any part reads them: values an older version kept
        # vault-sealed in the plain settings become sealed settings (rotation reaches those).
        moved = await move_legacy_sealed_settings(store, vault)
        if moved:
            log.info("moved %d sealed values from the plain settings into the sealed ones",
                     moved)
        await cross_sign(client, vault, layout, password)
        detector = await loading
        metrics = CounselMetrics(clock, counsellor_label=settings.web.counsellor_label,
                                 day_zone=ZoneInfo(settings.opening_hours.timezone))
        metrics.instance_role(active=True, failovers=0 if term is None else term.failovers)
        conductor = await Conductor.open(
            store, detector, policy_from(settings), clock.now(), metrics=metrics,
            # The model's embeddings take milliseconds: judged in a worker thread, so the
            # event loop (outbox, alerts, dashboard) never waits on them.
            judge=bounded_judge(detector),
            office_metrics=(OfficeMetrics(office_rules(settings), metrics.registry)
                            if settings.offices else None))
        made: list[CounselBot] = []

        async def staff_room() -> RoomID | None:
            return await made[0].staff_rooms.for_notice() if made else None

        executor = Executor(client, store, clock, default_language=settings.bot.default_language,
                            staff_room=staff_room)
        bot = CounselBot(
            client, conductor, executor, clock,
            default_language=settings.bot.default_language,
            undecryptable_grace=timedelta(seconds=settings.bot.undecryptable_grace_seconds),
        )
        made.append(bot)
        await start_groups(settings, conductor, executor, bot)
        mail = await start_mail(settings, layout, conductor, client, clock, stack)
        executor.mail = bot.mail = mail
        web_runner = await start_team_lead_view(settings, conductor, metrics, clock, stack)
        if on_ready is not None:
            on_ready(bot)
        admin_http = await stack.enter_async_context(aiohttp.ClientSession())
        bridge = bridge_admin(settings, layout, admin_http)
        # A purge takes the room a youth was moved out of too: their first words are there.
        admin = None if bridge is None else PurgingFirstRooms(
            bridge, store, bot.moving.in_use,
            forget=lambda room: forget_in_nio(client, room, None))
        executor.admin = admin  # youth-initiated deletion; without it, retention deletes
        async def before_erase(record: ConversationRecord, *, account: bool = False) -> None:
            # Its words in the staff room or a counsellor's direct room: taken back first,
            # while the notes of where they are still exist.
            await said_elsewhere.take_back(client, store, record.conversation)
            await conductor.forget_traces(record, clock.now(), account=account)
            await bot.moving.erase_rest_of_chat(record)  # a room they declined, say
            # The room is purged by now: its keys go, and with the account its devices.
            forget_in_nio(client, record.room_id, record.youth_user_id if account else None)

        # The executor erases only on the youth's own deletion, whose account it has just
        # deactivated: everything naming that account goes. Retention erases a conversation
        # of an account that lives on: only what came from its room.
        executor.before_erase = functools.partial(before_erase, account=True)
        executor.erasure_journal = journal
        executor.forget_room = lambda room: forget_in_nio(client, room, None)
        # What `counsel retention` by hand erased while the bot was stopped.
        await said_elsewhere.take_back_left(client, store)
        await delete_again(erased, conductor, clock)
        if due.exists():
            if journal is None:
                log.warning("this data was restored from a backup, and no [backup] "
                            "erasure_journal is set: what youths deleted after the backup "
                            "was made is back")
            due.unlink()
        retention = asyncio.create_task(retention_loop(
            settings, store, admin, clock, stop, before_erase=before_erase,
            serial=conductor.steps.held, needed=bot.room_needed,
            forget=lambda room: forget_in_nio(client, room, None)))
        stack.push_async_callback(_finish, retention)
        if bridge is not None:
            # Reports users sent with their app: to the staff, then off the homeserver.
            reporting = asyncio.create_task(reports_loop(bridge, conductor, clock, stop))
            stack.push_async_callback(_finish, reporting)
            bot.on_stop.append(functools.partial(_finish, reporting))
        if mail is not None and mail.inbound is not None:
            bot.on_stop.append(mail.inbound.stop)
        bot.on_stop.append(functools.partial(_finish, retention))
        runner = asyncio.create_task(bot.run(stop))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        # On a stop the loop ends its current sync and performs what is pending; a crash of
        # the loop is raised here and stops the process, loudly.
        try:
            await asyncio.wait_for(runner, STOP_WITHIN_SECONDS)
        except TimeoutError:
            log.warning("the bot did not stop within %d s; pending effects run at the next "
                        "start", STOP_WITHIN_SECONDS)
        if web_runner is not None:
            await web_runner.cleanup()
    finally:
        await stack.aclose()
        await store.close()
        await client.close()  # never logout(): that would delete the device's keys


def erasure_journal_of(settings: Settings, layout: DataLayout) -> Path | None:
    """The configured erasure journal; refused inside the data directory, which a restore
    replaces with the backup's (and the journal with it)."""
    if not settings.backup.erasure_journal:
        return None
    journal = Path(settings.backup.erasure_journal)
    if layout.root.resolve() in journal.resolve().parents:
        raise BotError(f"the erasure journal {journal} is inside the data directory "
                       f"{layout.root}: a restore would replace it with the backup's, and "
                       "bring back what youths deleted since; put it on the backups' disk "
                       "([backup] erasure_journal)")
    return journal


async def delete_again(erased: list[ConversationID], conductor: Conductor,
                       clock: Clock) -> None:
    """Conversations the journal names (``erased``) that are here again, restored from a
    backup made before their youths deleted them: deleted again (the purge follows in the
    outbox)."""
    again = 0
    for conversation in erased:
        again += await conductor.delete_again(conversation, clock.now())
    if again:
        log.warning("deleted %d conversations again: their youths had deleted them after the "
                    "backup this data was restored from was made", again)


async def refuse_another_device(store: Store, session: SessionFile) -> None:
    """All bots of an office act as one Matrix device, kept in their shared data directory.
    One on a directory of its own would log in as a new device of the bot account and
    replace the bot's cross-signing identity: every youth's app would warn that the bot's
    identity was reset, and what they encrypted for the office's device would be unreadable
    to this one. Refused before the login."""
    office = await store.get_setting(OFFICE_DEVICE_KEY)
    saved = session.load()
    # A new login after the office's device was revoked is saved before the store learns
    # of it: a bot killed in between is still the office's bot, by the device it replaced.
    if office is not None and (saved is None or office not in (saved.device_id,
                                                               saved.replaces)):
        raise BotError(
            f"the office's bot acts as the device {office}, but the data directory "
            f"{session.path.parent.parent} holds {'no login' if saved is None else 'another'}"
            "; give every bot of the office the same data directory (shared storage "
            "with flock, see docs/scaling.md). If that device's keys are lost for good and "
            "this directory is to replace it, delete the setting "
            f"{OFFICE_DEVICE_KEY!r} from the store's settings table first")


async def start_groups(settings: Settings, conductor: Conductor, executor: Executor,
                       bot: CounselBot) -> None:
    """Group sessions and the forum: their parts in the conductor, their rooms in the
    executor, the forum rooms made on the first sync."""
    if not settings.groups.enabled:
        return
    def room_names(room_id: RoomID) -> dict[UserID, str]:
        # nio's copy of the room's state, rebuilt by the first sync after a start.
        room = executor.client.rooms.get(room_id)
        return {} if room is None else {UserID(user): member.display_name or ""
                                        for user, member in room.users.items()}

    desk = GroupDesk(conductor, ZoneInfo(settings.opening_hours.timezone),
                     timedelta(minutes=settings.groups.purge_after_minutes), room_names)
    await desk.load()
    forum = ForumDesk(conductor, settings.forum)
    await forum.load()
    conductor.addons += [desk, forum]
    rooms = GroupRooms(executor, room_opened=desk.room_opened, room_purged=desk.room_purged,
                       forum_rooms=forum.set_rooms)
    executor.groups = rooms
    staff = sorted(str(user) for user in conductor.policy.staff)
    topics = [(t.id.casefold(), t.name) for t in settings.forum]

    async def forum_rooms() -> object:
        return await rooms.ensure_forum_rooms(topics, staff)

    bot.forum_rooms = forum_rooms


async def start_mail(
    settings: Settings, layout: DataLayout, conductor: Conductor, client: AsyncClient,
    clock: Clock, stack: contextlib.AsyncExitStack,
) -> MailChannel | None:
    """The office's mail address: an SMTP server in the bot process (the conversations
    live here), replies through the configured SMTP relay."""
    if not settings.mail.enabled:
        return None
    sender = MailSender(settings.mail) if settings.mail.smtp_host else None

    async def create_room() -> object:
        return await client.room_create(name="Mail", initial_state=[ENCRYPTION],
                                        power_level_override=counselling_power_levels())

    deadlines = MailDeadlines(OpeningHours.from_dict(settings.opening_hours.as_dict()),
                              settings.mail_deadline)
    mail = MailChannel(conductor, client, settings.mail, sender, clock.now,
                       create_room, deadlines)
    await mail.load()
    conductor.mail_switch = mail.codes.propose_address
    conductor.mail_code = mail.codes.confirm_code
    conductor.chat_invite = mail.codes.invite_to_chat
    conductor.chat_end = mail.codes.end_chat
    conductor.redeem_case_code = mail.codes.redeem_case_code
    mail.chat_link = await chat_link(settings, layout, stack)
    office_addresses = frozenset(o.mail_address for o in settings.offices if o.mail_address)
    mail.inbound = await start_inbound(settings.mail, mail, now=clock.now, bounce_sender=sender,
                                       also_accept=office_addresses)
    stack.push_async_callback(mail.inbound.stop)
    return mail


async def chat_link(
    settings: Settings, layout: DataLayout, stack: contextlib.AsyncExitStack
) -> ChatLink | None:
    """How a mail youth gets into the chat; None if they cannot (registration closed)."""
    hs = settings.homeserver
    if hs.registration == "closed":
        return None
    bot = f"https://matrix.to/#/@{settings.bot.localpart}:{hs.server_name}"
    if hs.registration == "open":
        async def no_token(_expires: datetime) -> str | None:
            return None
        return ChatLink(hs.advertised_url, bot, no_token)
    http = await stack.enter_async_context(aiohttp.ClientSession())
    admin = bridge_admin(settings, layout, http)
    if admin is None:
        return None

    async def token(expires: datetime) -> str | None:
        return (await admin.create_registration_token(uses_allowed=1, expires_at=expires)).token

    return ChatLink(hs.advertised_url, bot, token)


def bridge_admin(
    settings: Settings, layout: DataLayout, http: aiohttp.ClientSession
) -> AdminClient | None:
    """The bridge's admin token (written by counsel up) gives the bot the admin API:
    single-use registration tokens, room purges, erasure. None without it."""
    token_file = layout.admin_token_file
    if not token_file.exists():
        return None
    token = token_file.read_text(encoding="utf-8").strip()
    return AdminClient(settings.homeserver.bot_url, token, http)


async def retention_loop(
    settings: Settings, store: Store, admin: RoomPurger | None, clock: Clock,
    stop: asyncio.Event, check_every: float = 60.0, before_erase: BeforeErase | None = None,
    serial: Serial | None = None, needed: Needed | None = None, forget: Forget | None = None,
) -> None:
    """Closed conversations are deleted after [retention] closed_days: room purged, then
    the bot's records erased (only with the bridge's admin access: without it, nothing can
    purge the room). With ``needed`` (the bot's parts say which rooms they still need), so
    are a youth's rooms without a conversation idle as long (`idle_rooms`), their keys
    forgotten by ``forget``. Done effects and handled event ids older than [retention]
    done_days are forgotten on the same schedule, always. Runs in the bot (it holds the data
    directory); time comes from ``clock``."""
    while not stop.is_set():
        try:
            await _retention_round(settings, store, admin, clock, before_erase, serial,
                                   needed, forget)
        except Exception as exc:
            # A busy database or an unreachable homeserver must not end retention until
            # the next restart (conversations would be kept past their time): the round is
            # not marked done, so the next check runs it again. The kind only, no ids.
            log.error("retention failed (%s); tried again in %d s", type(exc).__name__,
                      check_every)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), check_every)


async def _retention_round(settings: Settings, store: Store, admin: RoomPurger | None,
                           clock: Clock, before_erase: BeforeErase | None,
                           serial: Serial | None, needed: Needed | None = None,
                           forget: Forget | None = None) -> None:
    keep, every = settings.retention.keep, settings.retention.run_every
    last = await store.get_setting(LAST_RETENTION_KEY)
    now = clock.now()
    if not is_due(datetime.fromisoformat(last) if last else None, now, every):
        return
    if admin is not None:
        report = await run_retention(store, admin, now, keep, dry_run=False,
                                     keep_by_office=retention_by_office(settings),
                                     before_erase=before_erase, serial=serial)
        log.info("%s", report.summary())
        if needed is not None:
            # The rooms no conversation opened in (a forum post, a sign-up, a greeting):
            # as long after their last activity as a closed conversation's after its close.
            await run_idle_rooms(store, admin, now, keep, dry_run=False, needed=needed,
                                 forget=forget, serial=serial)
    await prune_bookkeeping(store, now, settings.retention.keep_done)
    await store.set_setting(LAST_RETENTION_KEY, now.isoformat())


async def start_team_lead_view(
    settings: Settings, conductor: Conductor, metrics: CounselMetrics, clock: Clock,
    stack: contextlib.AsyncExitStack,
) -> web.AppRunner | None:
    """/metrics and the dashboard, served by the bot: numbers only, never content."""
    if not settings.web.enabled:
        return None
    http = await stack.enter_async_context(aiohttp.ClientSession())

    def room_link(conversation: ConversationID) -> str | None:
        room = conductor.rooms.get(conversation)
        return None if room is None else f"https://matrix.to/#/{room}"

    source = RouterDashboardSource(
        lambda: conductor.router.snapshot(), clock, nickname=conductor.nicknames.get,
        room_link=room_link, crisis_detail=conductor.crisis_details.get, today=metrics.today,
        unsigned=lambda: conductor.router.unsigned,
        overdue=lambda state: conductor.overdue_replies(clock.now(), state),
        offices=office_rules(settings),
    )
    office_leads = {u for office in settings.offices for u in office.team_leads}
    auth = MatrixPasswordAuth(settings.homeserver.bot_url,
                              frozenset(settings.staff.team_leads) | office_leads, http)
    web_settings = settings.web.web_settings()
    app = build_web_app(metrics, source, auth, web_settings, clock,
                        on_scrape=lambda: conductor.refresh_metrics(clock.now()),
                        second_factor=StoreSecondFactors(conductor.store))
    return await start_web(app, web_settings)


async def _finish(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # nio logs event contents at debug level, aiosqlite every statement with its values
    # (room ids among them); they never log below WARNING here.
    for noisy in ("nio", "peewee", "aiohttp", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Its warnings that a message failed its checks quote the message.
    crash_report.quiet_quoting_loggers()


def main_bot(
    settings: Settings, layout: DataLayout, config_dir: Path, ready_fd: int | None = None
) -> int:
    configure_logging(settings.logging.level)
    on_ready = None if ready_fd is None else announcer(ready_fd)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(crash_report.loop_exception_handler)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(settings, layout, config_dir, stop, on_ready=on_ready)

    asyncio.run(serve())
    return 0
