"""A child started with tied_to_parent() ends when the process that started it is killed
outright, though it runs in a session of its own (so a Ctrl-C does not reach it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STARTER = """
import asyncio
import signal
from homeserver_bridge.child_process import tied_to_parent

async def main() -> None:
    child = await asyncio.create_subprocess_exec(
        "sleep", "120", start_new_session=True, preexec_fn=tied_to_parent(signal.SIGTERM))
    print(child.pid, flush=True)
    await child.wait()

asyncio.run(main())
"""


def is_gone(pid: int) -> bool:
    """Ended: no such process, or a zombie nobody reaped yet (it is orphaned)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_a_child_ends_when_its_starter_is_killed() -> None:
    starter = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE,
                               text=True)
    assert starter.stdout is not None
    child = int(starter.stdout.readline())
    try:
        assert os.getsid(child) == child, "the child lost its own session"
        starter.kill()
        starter.wait()
        deadline = time.monotonic() + 10
        while not is_gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert is_gone(child), "the child outlived the process that started it"
    finally:
        if not is_gone(child):
            os.kill(child, signal.SIGKILL)
