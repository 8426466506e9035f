"""What every child process of `counsel up` (Synapse, the bot) is set up with before exec.

Each runs in a session of its own, so a Ctrl-C in the terminal reaches counsel alone and
counsel decides the order of shutdown (the bot before its homeserver). The price: no
terminal hang-up reaches them either, so a counsel killed outright (SIGKILL, OOM killer)
would leave them running, holding ports and locks. The kernel's parent-death signal ends
them instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _setup(parent: int, death_signal: signal.Signals) -> None:
    # Synapse's database and the bot's store hold conversation metadata: owner-only files.
    os.umask(0o077)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, death_signal)
    # A parent that died between fork and prctl sends no signal: we are already orphaned.
    if os.getppid() != parent:
        os._exit(1)


def tied_to_parent(death_signal: signal.Signals) -> Callable[[], None]:
    """A preexec_fn: owner-only files, and `death_signal` when the process that started us
    ends.

    The signal follows the thread that forked, not the process: start children from the
    thread that lives as long as counsel (the event loop's)."""
    parent = os.getpid()
    return lambda: _setup(parent, death_signal)
