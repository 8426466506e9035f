"""The data directory locks against a real second process: refused at once, naming it, and
free again the moment that process dies, however it dies."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from counsel_bot.runtime.data_lock import DataDirInUse, exclusive, service_exclusive

HOLDER = """
import sys
from pathlib import Path
from counsel_bot.runtime.data_lock import exclusive, service_exclusive
directory = Path(sys.argv[2])
with service_exclusive(directory) if sys.argv[1] == "up" else exclusive(directory, "testing"):
    print("held", flush=True)
    sys.stdin.read()
"""

LOCKS: dict[str, Callable[[Path], AbstractContextManager[None]]] = {
    "up": service_exclusive,
    "bot": lambda directory: exclusive(directory, "testing"),
}


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_a_second_holder_is_refused_naming_the_directory_and_the_first(
    kind: str, tmp_path: Path
) -> None:
    lock = LOCKS[kind]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, kind, str(tmp_path)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(DataDirInUse) as refused, lock(tmp_path):
            pass
        assert f"pid {holder.pid}" in str(refused.value)
        assert str(tmp_path.resolve()) in str(refused.value)
    finally:
        holder.kill()  # SIGKILL: nothing of the holder's runs, the kernel lets go
        holder.wait()
    with lock(tmp_path):
        pass
