"""A bug's report without its message.

An exception's message may hold whatever the code was working on: ``int("…")`` puts the
text it could not read into its ValueError, a JSON error quotes the document. Python's own
traceback prints it, and a crash of the bot would have written a youth's words into the
journal. These reports name the code (files, lines, functions, exception types), which is
what a bug report needs, and never the data.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any, TextIO

log = logging.getLogger(__name__)

LEFT_OUT = "(exception messages are left out: they may hold a youth's words)"
# Libraries that log what failed their checks in its own words: matrix-nio quotes the failing
# part of an event against its schema (a message's body, for one without a msgtype) and of a
# server's answer, decrypted events included.
QUOTING_LOGGERS = ("nio.events.misc", "nio.responses")
# Libraries that name accounts and rooms in their warnings: matrix-nio's end-to-end layer,
# for every message still waiting for its key ("no session found ... for room !…", "from a
# unknown device: @…"), which linked youths' accounts to rooms in the journal.
ID_NAMING_LOGGERS = ("nio.crypto.log",)
# A user, room or alias id (a room id of version 12 has no server part).
_MATRIX_ID = re.compile(r"[@!#][^\s,;()\[\]]+")


def describe(exc: BaseException) -> str:
    """Where ``exc`` and the exceptions it came from were raised, oldest first."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__)
    lines = [LEFT_OUT]
    for one in reversed(chain):
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(one.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(_kind(one))
    return "\n".join(lines)


def _kind(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" \
        else kind.__qualname__


def report(exc: BaseException, out: TextIO) -> None:
    print(f"counsel: internal error {_kind(exc)}: a bug, not something to fix in the "
          "settings; please report it with the lines below", file=out)
    print(describe(exc), file=out)


def install() -> None:
    """Uncaught exceptions of the process and its threads are reported without messages."""
    def process_hook(kind: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> None:
        report(exc.with_traceback(tb), sys.stderr)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            report(args.exc_value, sys.stderr)

    sys.excepthook = process_hook
    threading.excepthook = thread_hook


class WithoutDetails(logging.Filter):
    """Keeps a quoting library's record, so an operator still learns that something failed
    its checks, but only the words before its first colon ("Error validating event")."""

    def filter(self, record: logging.LogRecord) -> bool:
        head = record.msg.split(":", 1)[0][:80] if isinstance(record.msg, str) else ""
        record.msg = f"{head or record.name} (details left out: they may quote a youth's words)"
        record.args = None
        record.exc_info = record.exc_text = None
        return True


class WithoutIds(logging.Filter):
    """Keeps the record and its words, each Matrix id in it replaced by "<id>"."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _MATRIX_ID.sub("<id>", record.getMessage())
        record.args = None
        return True


def quiet_quoting_loggers() -> None:
    """What the `QUOTING_LOGGERS` log reaches no handler with its details, nor what the
    `ID_NAMING_LOGGERS` log with its ids (repeatable)."""
    for name in QUOTING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutDetails) for f in logger.filters):
            logger.addFilter(WithoutDetails())
    for name in ID_NAMING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutIds) for f in logger.filters):
            logger.addFilter(WithoutIds())


def loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's default handler logs the exception with its message ("Task exception was
    never retrieved"); this one logs where it was raised and its type."""
    exc = context.get("exception")
    what = str(context.get("message", "an asyncio callback failed"))
    if isinstance(exc, BaseException):
        log.error("%s\n%s", what, describe(exc))
    else:
        log.error("%s", what)
