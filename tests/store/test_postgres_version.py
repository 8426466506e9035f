"""The PostgreSQL store names the server version it needs instead of failing later."""

import pytest

from counsel_bot.store.contract import StoreRefusedError
from counsel_bot.store.postgres import check_server_version


@pytest.mark.parametrize("version", [90624, 120017, 130014])
def test_a_server_before_14_is_refused_with_the_version_needed(version: int) -> None:
    with pytest.raises(StoreRefusedError, match="14 or newer") as refused:
        check_server_version(version)
    assert f"PostgreSQL {version // 10000} " in str(refused.value)


@pytest.mark.parametrize("version", [140000, 150010, 170002])
def test_14_and_newer_are_accepted(version: int) -> None:
    check_server_version(version)
