"""The bot's fallback key (`session.CounselClient`): what it publishes, and when a new one.

The homeserver hands it out once the one-time keys are claimed; a sync then no longer lists
it among the device's unused fallback key types, and the bot publishes a new one. The bot's
real client and nio store, no server."""

from __future__ import annotations

import json
from pathlib import Path

from nio import SyncResponse

from counsel_bot.channels.matrix.session import (
    SIGNED_CURVE25519,
    CounselClient,
    _fallback_keys,
    _sync_answer,
    client_config,
)
from e2e.vault import KdfParams, Vault

BOT, BOT_DEVICE = "@bot:counsel.example", "BOTDEVICE"
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def bot_client(tmp_path: Path) -> CounselClient:
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store = tmp_path / "nio"
    store.mkdir()
    client = CounselClient("http://127.0.0.1:9", BOT, device_id=BOT_DEVICE,
                           store_path=str(store), config=client_config(vault))
    client.restore_login(BOT, BOT_DEVICE, "token")
    return client


def sync_reporting(unused: list[str] | None, batch: str) -> SyncResponse:
    body = {"next_batch": batch, "rooms": {"join": {}, "invite": {}, "leave": {}},
            "to_device": {"events": []}, "presence": {"events": []},
            "account_data": {"events": []}, "device_one_time_keys_count": {},
            "device_lists": {"changed": [], "left": []}}
    if unused is not None:
        body["device_unused_fallback_key_types"] = unused
    answer = _sync_answer(json.dumps(body).encode(), ())
    assert isinstance(answer, SyncResponse)
    return answer


async def test_a_new_fallback_key_is_wanted_once_a_sync_reports_it_claimed(
    tmp_path: Path,
) -> None:
    bot = bot_client(tmp_path)
    assert bot.fallback_wanted  # at each start
    assert bot.should_upload_keys
    bot.fallback_wanted = False  # published

    await bot.receive_response(sync_reporting([SIGNED_CURVE25519], "s1"))
    assert not bot.fallback_wanted
    await bot.receive_response(sync_reporting(None, "s2"))  # a server that says nothing
    assert not bot.fallback_wanted

    await bot.receive_response(sync_reporting([], "s3"))
    assert bot.fallback_wanted
    assert bot.should_upload_keys
    await bot.close()


async def test_the_fallback_key_is_signed_with_its_mark_and_kept_until_published(
    tmp_path: Path,
) -> None:
    bot = bot_client(tmp_path)
    olm = bot.olm
    assert olm is not None
    first = _fallback_keys(olm)
    assert len(first) == 1
    (key_id, key), = first.items()
    assert key_id.startswith(f"{SIGNED_CURVE25519}:")
    assert key["fallback"] is True
    signed = {k: v for k, v in key.items() if k != "signatures"}
    device_key = olm.account.identity_keys["ed25519"]
    assert olm.verify_json({**signed, "signatures": key["signatures"]}, device_key, BOT,
                           BOT_DEVICE)
    # An upload that failed is tried again with the same key: a new one would push the
    # one the homeserver still hands out from the account.
    assert _fallback_keys(olm) == first
    olm.account.mark_keys_as_published()
    assert [k["key"] for k in _fallback_keys(olm).values()] != [key["key"]]
    await bot.close()


async def test_the_fallback_key_is_in_the_store_before_it_is_published(tmp_path: Path) -> None:
    """A bot killed once the homeserver took the key, before nio saved the account after
    the answer, came back without it: every app that found the one-time keys gone was
    handed a key whose Olm sessions the bot could no longer open."""
    bot = bot_client(tmp_path)
    assert bot.olm is not None
    published = _fallback_keys(bot.olm)
    await bot.close()

    again = CounselClient("http://127.0.0.1:9", BOT, device_id=BOT_DEVICE,
                          store_path=str(tmp_path / "nio"),
                          config=client_config(Vault.open(tmp_path / "vault.json",
                                                          "passphrase")))
    again.restore_login(BOT, BOT_DEVICE, "token")
    assert again.olm is not None
    assert [k["key"] for k in _fallback_keys(again.olm).values()] \
        == [k["key"] for k in published.values()]
    await again.close()
