"""A bug's report names the code, never the data: an exception's message may hold a youth's
words (``int("…")`` quotes the text it could not read), and Python's own traceback would
print it into the journal."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import subprocess
import sys

import pytest

from counsel_bot import cli
from counsel_bot.runtime import crash_report

CANARY = "KANARIENVOGEL-ich-will-nicht-mehr-7c1e"


def failing() -> None:
    try:
        int(CANARY)
    except ValueError as exc:
        raise RuntimeError(f"while reading {CANARY}") from exc


def test_the_report_names_files_lines_and_types_and_no_message() -> None:
    with pytest.raises(RuntimeError) as caught:
        failing()
    text = crash_report.describe(caught.value)
    assert CANARY not in text
    assert "ValueError" in text
    assert "RuntimeError" in text
    assert "in failing" in text
    assert text.index("ValueError") < text.index("RuntimeError"), "oldest first, as Python"


def test_a_bug_in_a_command_is_reported_without_its_message(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "dispatch", lambda args: failing())
    assert cli.main(["crisis", "check"]) == 70
    err = capsys.readouterr().err
    assert CANARY not in err
    assert "internal error RuntimeError" in err


def test_an_uncaught_exception_in_the_process_is_reported_without_its_message() -> None:
    code = ("from counsel_bot.runtime import crash_report\n"
            "crash_report.install()\n"
            f"int('{CANARY}')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode != 0
    assert CANARY not in done.stderr
    assert "ValueError" in done.stderr


def test_a_task_that_failed_unseen_is_logged_without_its_message() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger(crash_report.__name__).addHandler(handler)
    logging.getLogger("asyncio").addHandler(handler)

    async def forgotten() -> None:
        raise ValueError(CANARY)

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(crash_report.loop_exception_handler)
        task = asyncio.ensure_future(forgotten())
        await asyncio.sleep(0.01)
        del task
        gc.collect()  # "Task exception was never retrieved" is reported when it is freed

    try:
        asyncio.run(main())
    finally:
        logging.getLogger(crash_report.__name__).removeHandler(handler)
        logging.getLogger("asyncio").removeHandler(handler)
    logged = stream.getvalue()
    assert "never retrieved" in logged
    assert "ValueError" in logged
    assert CANARY not in logged
