"""The `counsel` command. Errors that are ours end in one clear line and exit status 1."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from counsel_bot.config import ConfigError
from homeserver_bridge.errors import BridgeError

# Errors a person can act on: printed as one line, never as a traceback.
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, BridgeError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counsel", description="End-to-end-encrypted online counselling on Matrix."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="run the homeserver and the bot; print the accounts")
    _data_options(up)
    return parser


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=Path("data"), help="data directory (default: ./data)"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="configuration file (default: DATA/counsel.toml)"
    )


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "up":
        from counsel_bot.service import run_up

        return run_up(args.data, args.config)
    raise AssertionError(f"unhandled command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Everything counsel writes (databases, vault, secrets, logs) is for the service user only.
    os.umask(0o077)
    try:
        return dispatch(args)
    except USER_ERRORS as exc:
        print(f"counsel: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
