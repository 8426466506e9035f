"""The bot's cross-signing seeds file (bot/cross_signing.sealed): a write that fails
halfway (disk full, a file-size limit) must not leave half a file behind, which no start
could ever read again."""

from __future__ import annotations

import contextlib
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from counsel_bot.runtime.runner import load_or_create_seeds
from e2e.vault import KdfParams, Vault

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


@contextlib.contextmanager
def files_limited_to(size: int) -> Iterator[None]:
    """Writes past ``size`` bytes fail with EFBIG, as a full disk fails a write halfway."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_failed_first_write_leaves_no_torn_seeds_file(tmp_path: Path) -> None:
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    path = tmp_path / "cross_signing.sealed"

    with files_limited_to(40), pytest.raises(OSError):
        load_or_create_seeds(vault, path)

    # Nothing was published with those seeds: the next start simply makes new ones. Before,
    # 40 of the sealed bytes stayed, and every start failed on them ("restore the vault").
    seeds = load_or_create_seeds(vault, path)
    assert load_or_create_seeds(vault, path).master_public == seeds.master_public
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, "vault.json"]
