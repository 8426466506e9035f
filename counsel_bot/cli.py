"""The `counsel` command. Errors that are ours end in one clear line and exit status 1."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path

from counsel_bot.config import ConfigError
from counsel_bot.core.crisis import CrisisError
from counsel_bot.core.crisis.training import DEFAULT_TARGET_RECALL
from counsel_bot.core.errors import BotError
from counsel_bot.runtime import crash_report
from counsel_bot.store import StoreError
from e2e.errors import CrossSigningError, VaultError
from homeserver_bridge.errors import BridgeError
from homeserver_bridge.paths import DataLayout

BACKUP_PASSPHRASE_ENV = "COUNSEL_BACKUP_PASSPHRASE"  # noqa: S105 (a variable name)
# Errors a person can act on: printed as one line, never as a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError, BridgeError, BotError, VaultError, CrossSigningError, CrisisError, StoreError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counsel", description="End-to-end-encrypted online counselling on Matrix."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="run the homeserver and the bot; print the accounts")
    _data_options(up)
    bot = commands.add_parser("bot", help="run only the bot (counsel up starts it for you)")
    _data_options(bot)
    bot.add_argument("--ready-fd", type=int, default=None, metavar="FD",
                     help="write 'ready' to this inherited file descriptor once the bot has "
                          "started (counsel up waits for it)")
    vault = commands.add_parser("vault", help="the bot's encrypted vault")
    vault_commands = vault.add_subparsers(dest="vault_command", required=True)
    rotate = vault_commands.add_parser(
        "rotate", help="new data key, everything re-encrypted; stop the bot first")
    _data_options(rotate)
    rotate.add_argument(
        "--new-passphrase-env", metavar="VAR", default=None,
        help="also change the passphrase to the value of this environment variable")
    retention = commands.add_parser(
        "retention", help="delete closed conversations past [retention] closed_days")
    _data_options(retention)
    retention.add_argument("--dry-run", action="store_true",
                           help="only list what would be deleted (safe beside a running bot)")
    backup = commands.add_parser(
        "backup", help="seal the data directory into one file (safe beside the running service)")
    _data_options(backup)
    backup.add_argument("--to", type=Path, required=True, metavar="DIR",
                        help="where the backup file goes (not inside the data directory)")
    backup.add_argument("--keep-days", type=_days, default=7, metavar="N",
                        help="delete this command's backups in DIR older than N days "
                             "(default 7; 0 keeps all)")
    _backup_passphrase_option(backup)
    restore = commands.add_parser(
        "restore", help="open a backup into a new data directory")
    restore.add_argument("file", type=Path, help="the backup file")
    restore.add_argument("--data", type=Path, default=Path("data"),
                         help="the new data directory (must not exist or be empty)")
    _backup_passphrase_option(restore)
    web = commands.add_parser("web", help="the team-lead dashboard")
    web_commands = web.add_subparsers(dest="web_command", required=True)
    reset = web_commands.add_parser(
        "reset-second-factor",
        help="remove a team lead's two-factor sign-in (phone and recovery codes lost)")
    _data_options(reset)
    reset.add_argument("user", help="the lead's Matrix id, e.g. @lea:counsel.example")
    stats = commands.add_parser("stats", help="print the team-lead figures from the running bot")
    _data_options(stats)
    status = commands.add_parser(
        "status", help="which bot is active and how many wait as standbys (exit 1: none active)")
    _data_options(status)
    crisis = commands.add_parser("crisis", help="the crisis-wording detector")
    crisis_commands = crisis.add_subparsers(dest="crisis_command", required=True)
    crisis_commands.add_parser("check", help="one message per stdin line -> one JSON per line")
    evaluate = crisis_commands.add_parser("eval", help="recall/precision on a labelled JSONL file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--curve", nargs=2, type=Path, metavar=("TRAIN", "DEV"), default=None,
                          help="also a learning curve: heads trained on growing parts of TRAIN "
                               "(threshold chosen on DEV), scored on FILE")
    evaluate.add_argument("--chats", action="store_true",
                          help="FILE holds whole chats (one per line, with turns): replay them "
                               "turn by turn as the bot judges them")
    trainer = crisis_commands.add_parser(
        "train", help="fit the model's head on labelled JSONL files (needs the dev extras)")
    trainer.add_argument("files", type=Path, nargs="+", help="training files")
    trainer.add_argument("--dev", type=Path, required=True, help="dev file for the threshold")
    trainer.add_argument("--chats", type=Path, nargs="+", default=[], metavar="FILE",
                         help="labelled chats: harmless turns and turn windows as examples")
    trainer.add_argument("--no-chat-windows", action="store_true",
                         help="from the chats only the harmless turns, no windows")
    trainer.add_argument("--out", type=Path, default=None, help="head file (default: shipped)")
    crossval = crisis_commands.add_parser(
        "crossval", help="leave one writer (or style) out, train on the rest, score on it")
    crossval.add_argument("files", type=Path, nargs="+")
    crossval.add_argument("--by", choices=("source", "style"), default="source")
    crossval.add_argument("--chats", type=Path, nargs="+", default=[], metavar="FILE",
                          help="labelled chats: their examples join every fold's training, "
                               "as `train --chats` adds them to the shipped head's")
    for sub in (crisis_commands.choices["check"], evaluate, trainer, crossval):
        sub.add_argument("--lexicons", type=Path, default=None, help="lexicon directory")
        sub.add_argument("--target-recall", type=float, default=DEFAULT_TARGET_RECALL,
                         help="dev recall the threshold is chosen for (train, crossval)")
    for sub in (crisis_commands.choices["check"], evaluate):
        sub.add_argument("--model", type=Path, default=None,
                         help="semantic head file (default: the shipped one)")
        sub.add_argument("--rules-only", action="store_true", help="the rules without the model")
        sub.add_argument("--config", type=Path, default=None,
                         help="judge as the bot of this configuration does (its [crisis] "
                              "lexicon_dir, model and model_file)")
    return parser


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=Path("data"), help="data directory (default: ./data)"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="configuration file (default: DATA/counsel.toml)"
    )


# A hundred years: more cannot be counted back from today (and 0 keeps all anyway).
MOST_KEEP_DAYS = 36_500


def _days(text: str) -> int:
    """A number of days, 0 or more: a negative one kept every backup for good."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError(f"{days} days: give 0 (keep all) or more")
    if days > MOST_KEEP_DAYS:
        raise argparse.ArgumentTypeError(f"{days} days: give at most {MOST_KEEP_DAYS}, or 0 "
                                         "to keep every backup")
    return days


def _backup_passphrase_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file", type=Path, default=None, metavar="FILE",
        help=f"the backup passphrase (chmod 600), if {BACKUP_PASSPHRASE_ENV} is not set")


def dispatch(args: argparse.Namespace) -> int:
    if args.command in ("up", "bot") and args.data.exists():
        _as_owner_of(args.data, args.data)
    if args.command == "up":
        from counsel_bot.runtime.service import run_up

        return run_up(args.data, args.config)
    if args.command == "bot":
        from counsel_bot.runtime.service import run_bot_only

        return run_bot_only(args.data, args.config, args.ready_fd)
    if args.command == "crisis":
        return _crisis(args)
    if args.command == "status":
        return _status(args)
    if args.command == "stats":
        return _stats(args)
    if args.command == "vault":
        return _vault_rotate(args)
    if args.command == "retention":
        return _retention(args)
    if args.command == "web":
        return _reset_second_factor(args)
    if args.command == "backup":
        return _backup(args)
    if args.command == "restore":
        return _restore(args)
    raise AssertionError(f"unhandled command {args.command}")


def _vault_rotate(args: argparse.Namespace) -> int:
    import asyncio

    from counsel_bot.runtime.data_lock import exclusive
    from counsel_bot.runtime.runner import open_vault, require_new_passphrase
    from counsel_bot.runtime.service import resolve_settings
    from counsel_bot.runtime.vault_rotation import rotate

    layout = _with_bot_data(args.data)
    settings, config_dir = resolve_settings(layout, args.config)
    new = None
    if args.new_passphrase_env:
        new = os.environ.get(args.new_passphrase_env, "")
        if not new:
            raise BotError(f"the environment variable {args.new_passphrase_env} is empty; "
                           "set it to the new passphrase")
        require_new_passphrase(
            new, f"the new passphrase in {args.new_passphrase_env}",
            "whoever copies the data directory can guess it offline. Nothing was changed")
    with exclusive(layout.bot_dir, "rotating the vault"):
        vault = open_vault(settings, layout, config_dir)
        report = asyncio.run(rotate(layout.bot_dir, vault, new, settings.store, config_dir))
    print(report.describe())
    if new is not None:
        print(f"Remember: the bot now needs the new passphrase ({settings.vault.passphrase_env} "
              "or vault.passphrase_file).")
    return 0


def _with_bot_data(data: Path) -> DataLayout:
    """The layout of `data`, which must hold the bot's vault: otherwise the command would
    make a new vault (and a demo configuration) in a mistyped directory and act on that."""
    layout = DataLayout(data)
    vault = layout.bot_dir / "vault.json"
    if not vault.exists():
        raise BotError(f"no bot data in {data}; give the data directory with --data")
    _as_owner_of(vault, data)
    return layout


def _as_owner_of(path: Path, data: Path) -> None:
    """What we write (the re-sealed vault, the store, the locks) would be ours, 0600: run as
    root on the service's directory, the service could no longer read it and not start."""
    owner = path.stat().st_uid
    if owner != os.geteuid():
        name = _user_name(owner)
        raise BotError(f"{data} belongs to the user {name}; run this command as that user "
                       f"(sudo -u {name} counsel ...), or the files it writes would be "
                       "unreadable to the service")


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"


def _reset_second_factor(args: argparse.Namespace) -> int:
    """For a lead who lost both their authenticator and their recovery codes. Safe beside
    the running bot: the dashboard reads the enrolment from the store at each sign-in."""
    import asyncio
    import re

    from counsel_bot.runtime.runner import open_vault
    from counsel_bot.runtime.service import resolve_settings
    from counsel_bot.runtime.stores import open_store
    from counsel_bot.web.second_factor import StoreSecondFactors

    if not re.fullmatch(r"@[^:\s]+:\S+", args.user):
        raise BotError(f"{args.user!r} is not a Matrix id; write it as @name:server")
    layout = _with_bot_data(args.data)
    settings, config_dir = resolve_settings(layout, args.config)
    vault = open_vault(settings, layout, config_dir)

    async def run() -> bool:
        store = await open_store(settings.store, layout.bot_dir, config_dir, vault,
                                 beside_bot=True)
        try:
            return await StoreSecondFactors(store).forget(args.user)
        finally:
            await store.close()

    if not asyncio.run(run()):
        raise BotError(f"{args.user} has no two-factor sign-in; nothing was changed (check "
                       "the id: it is the one the lead signs in with)")
    print(f"{args.user}'s two-factor sign-in is removed. They sign in with their Matrix "
          "password and set up a new one (with [web] require_totp = true they are asked "
          "to); if the password may have leaked with the phone, change it first.")
    return 0


def _retention(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib

    from counsel_bot.channels.matrix import said_elsewhere
    from counsel_bot.channels.matrix.room_moves import PurgingFirstRooms, in_use_by_records
    from counsel_bot.conversation.idle_rooms import needed_by_records, run_idle_rooms
    from counsel_bot.conversation.retention import run_retention
    from counsel_bot.conversation.youth_traces import forget_stored
    from counsel_bot.core.clock import SystemClock
    from counsel_bot.runtime.data_lock import exclusive
    from counsel_bot.runtime.offices import retention_by_office
    from counsel_bot.runtime.runner import open_vault
    from counsel_bot.runtime.service import resolve_settings
    from counsel_bot.runtime.stores import open_store
    from counsel_bot.store import ConversationRecord

    layout = _with_bot_data(args.data)
    settings, config_dir = resolve_settings(layout, args.config)
    vault = open_vault(settings, layout, config_dir)

    async def run() -> str:
        import aiohttp

        from counsel_bot.runtime.runner import bridge_admin

        store = await open_store(settings.store, layout.bot_dir, config_dir, vault,
                                 beside_bot=args.dry_run)
        try:
            async with aiohttp.ClientSession() as http:
                admin = bridge_admin(settings, layout, http)
                if admin is None:
                    raise BotError(f"no admin token at {layout.admin_token_file}; run "
                                   "counsel up once, or restore the file")
                # As the bot's schedule does: the room a youth was moved out of goes too.
                # Its link is erased with the conversation, so a purge that left it would
                # leave the youth's first words on the homeserver for good.
                purger = PurgingFirstRooms(admin, store, in_use_by_records(store))
                now = SystemClock().now()

                async def before_erase(record: ConversationRecord) -> None:
                    # The bot is not running (we hold its data directory): the group book
                    # and forum queue are forgotten in the store itself, and what it said
                    # about the conversation elsewhere is left for it to take back.
                    await forget_stored(store, record, now)
                    await said_elsewhere.keep_for_the_bot(store, record.conversation)

                report = await run_retention(store, purger, now,
                                             settings.retention.keep, dry_run=args.dry_run,
                                             keep_by_office=retention_by_office(settings),
                                             before_erase=before_erase)
                # As the schedule does: a youth's rooms no conversation opened in, idle as
                # long. nio's store is the running bot's: the keys of a room purged here
                # stay in it, as those of a conversation deleted here do.
                idle = await run_idle_rooms(
                    store, purger, now, settings.retention.keep, dry_run=args.dry_run,
                    needed=needed_by_records(store, in_use_by_records(store)))
                return f"{report.summary()}\n{idle.summary()}"
        finally:
            await store.close()

    # A dry run only reads (SQLite WAL lets it read beside the bot); deleting takes the
    # data directory, like the bot does on its schedule.
    guard = (contextlib.nullcontext() if args.dry_run
             else exclusive(layout.bot_dir, "deleting by hand (the bot deletes on its schedule)"))
    with guard:
        print(asyncio.run(run()))
    return 0


def _backup_passphrase(file: Path | None) -> str:
    from e2e.passphrase import passphrase_from_env_or_file

    if file is None and not os.environ.get(BACKUP_PASSPHRASE_ENV):
        raise BotError(f"no backup passphrase: set {BACKUP_PASSPHRASE_ENV} or give "
                       "--passphrase-file FILE (keep it apart from the data directory, and "
                       "where you will find it when the machine is lost)")
    return passphrase_from_env_or_file(BACKUP_PASSPHRASE_ENV, file, what="backup")


def _backup(args: argparse.Namespace) -> int:
    from datetime import datetime

    from counsel_bot.config import load_settings
    from counsel_bot.runtime.backup import make_backup
    from counsel_bot.runtime.runner import require_new_passphrase

    layout = DataLayout(args.data)
    if not (layout.bot_dir / "vault.json").exists() and not layout.synapse_dir.exists():
        raise BotError(f"no counsel data in {args.data}; give the data directory with --data")
    # Its lock, and SQLite's journals of a database the service had closed, made as root:
    # the service's user could not open them, nor its timer's backups run again.
    _as_owner_of(args.data, args.data)
    data = args.data.resolve()
    if args.passphrase_file is not None and data in args.passphrase_file.resolve().parents:
        raise BotError(f"the backup passphrase file {args.passphrase_file} is inside the data "
                       "directory: lost with it, no backup could be opened; keep it elsewhere")
    passphrase = _backup_passphrase(args.passphrase_file)
    require_new_passphrase(
        passphrase, "the backup passphrase",
        "the backup holds the homeserver's database (nicknames, who was in which room), and "
        "whoever finds the file can guess offline")
    made = make_backup(args.data, args.to, passphrase, datetime.now(),
                       keep_days=args.keep_days)
    print(made.describe())
    config = args.config or layout.config_file
    if config.exists() and load_settings(config).store.postgres:
        print("The bot's PostgreSQL database is not in this backup: back it up with the "
              "database's own tools (pg_dump) at the same time.")
    if args.config is not None and data not in args.config.resolve().parents:
        print(f"The configuration {args.config} is outside the data directory and not in "
              "this backup.")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from counsel_bot.runtime.backup import restore_backup

    if os.geteuid() == 0 and args.file.exists() and args.file.stat().st_uid != 0:
        # The timer's backup is the service user's: restored as root, every file would be
        # root's (0600), and the service could open none of them.
        name = _user_name(args.file.stat().st_uid)
        raise BotError(f"{args.file} belongs to the user {name}, the service's: restore it as "
                       f"that user (sudo -u {name} counsel restore ...), or the service "
                       "could not read what it restores")
    files = restore_backup(args.file, args.data, _backup_passphrase(args.passphrase_file))
    print(f"{files} files restored into {args.data}. Start the service on it with "
          f"`counsel up --data {args.data}` (stop the one on the old directory first). "
          "What youths deleted after the backup was made is back: see the README, "
          "\"Backup and restore\".")
    return 0


def _existing_config(args: argparse.Namespace) -> Path:
    """The configuration a reading command is given. Only reads: a first run's set-up (a
    demo configuration and a new passphrase) in a mistyped directory would read the demo's,
    not the bot's the admin meant."""
    config: Path = args.config or DataLayout(args.data).config_file
    if args.config is None and not config.exists():
        raise BotError(f"no configuration file {config}; give the bot's configuration with "
                       "--config FILE (e.g. /etc/counsel/counsel.toml), or its data "
                       "directory with --data DIR")
    return config


def _status(args: argparse.Namespace) -> int:
    import asyncio

    from counsel_bot.config import load_settings
    from counsel_bot.runtime.stores import store_password
    from counsel_bot.store.leadership import role_report

    config = _existing_config(args)
    store = load_settings(config).store
    if not store.url:
        print(f"Store:           SQLite in {args.data} (one bot, no standby)")
        return 0
    # Relative *_file options start at the config file's directory, as for the bot.
    report = asyncio.run(role_report(store.url, store_password(store, config.resolve().parent)))
    print("Store:           PostgreSQL (active and standby bots)")
    if report.active_since is None:
        print("Active bot:      none: no bot is active (all stopped, or one is starting)")
    else:
        since = report.active_since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        where = (f", from {report.active_from}" if report.active_from
                 else ", through a local socket of the database's machine")
        print(f"Active bot:      since {since}{where}")
    print(f"Standby bots:    {report.standbys}")
    print(f"Terms:           {report.epoch}, of them {report.failovers} taken over by a standby")
    return 0 if report.active_since is not None else 1


def _stats(args: argparse.Namespace) -> int:
    import asyncio

    from counsel_bot.config import load_settings
    from counsel_bot.stats import fetch_stats, format_stats

    config = _existing_config(args)
    settings = load_settings(config)
    if not settings.web.enabled:
        # Whatever listens on that port is not this bot (another office's, another service).
        raise BotError(f"{config} sets [web] enabled = false: the bot serves no figures; "
                       "set it to true (and restart the bot) to read them here")
    web_settings = settings.web.web_settings()
    stats = asyncio.run(fetch_stats(web_settings.metrics_url, web_settings.metrics_token()))
    print(format_stats(stats), end="")
    return 0


def _crisis(args: argparse.Namespace) -> int:
    from counsel_bot.core.crisis import (
        CrisisDetector,
        default_lexicon_dir,
        default_model_path,
        run_chat_eval,
        run_check,
        run_crossval,
        run_curve,
        run_eval,
        run_train,
    )
    from counsel_bot.runtime.crisis_detector import load_detector

    lexicons = args.lexicons or default_lexicon_dir()
    command = args.crisis_command
    crisis = None
    if command in ("check", "eval") and args.config is not None:
        from counsel_bot.config import load_settings

        # An office's own lexicons (and model) are what its bot judges with: a review of
        # them with the shipped ones would show flags the bot never raises, or miss some.
        crisis = load_settings(args.config).crisis
        if args.lexicons is None and crisis.lexicon_dir:
            lexicons = Path(crisis.lexicon_dir)
    if command in ("train", "crossval"):
        rules = CrisisDetector.from_directory(lexicons)
        if command == "train":
            return run_train(rules, args.files, args.dev, args.out or default_model_path(),
                             sys.stdout, args.target_recall, args.chats,
                             not args.no_chat_windows)
        return run_crossval(rules, args.files, args.by, sys.stdout, args.target_recall,
                            args.chats)
    model = None if args.rules_only else (args.model or default_model_path())
    if crisis is not None and not args.rules_only and args.model is None:
        model = Path(crisis.model_file or default_model_path()) if crisis.model else None
    detector = load_detector(lexicons, model)
    if command == "check":
        stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        return run_check(detector, stdin, sys.stdout)
    if args.chats:
        return run_chat_eval(detector, args.file, sys.stdout)
    run_eval(detector, args.file, sys.stdout)
    if args.curve:
        train_file, dev_file = args.curve
        return run_curve(detector.rules, [train_file], dev_file, args.file, sys.stdout,
                         args.target_recall)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Everything counsel writes (databases, vault, secrets, logs) is for the service user only.
    os.umask(0o077)
    crash_report.install()
    try:
        return dispatch(args)
    except USER_ERRORS as exc:
        print(f"counsel: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # A bug: Python's own traceback would print the exception's message, which may
        # hold a youth's words, into the journal.
        crash_report.report(exc, sys.stderr)
        return 70  # EX_SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
