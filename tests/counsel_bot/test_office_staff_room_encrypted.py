"""An office's configured staff room must be end-to-end encrypted. The bot sends every
notice of the office there (crisis alerts with the room's link, the category and who has
it) and answers staff commands there (``!forum pending`` lists the waiting forum posts with
their text): in a room without encryption all of it lies in the homeserver's database in
plain text. The embedded Synapse encrypts every room it makes, but `homeserver.url` may
name another Synapse, where a team's existing room often is not. The bot joined whatever
room the configuration named; now it leaves one without encryption and opens its own.

On a real Synapse whose rooms are not encrypted by default (as an external one may be)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from nio import AsyncClient

import homeserver_bridge.embedded as embedded_module
from counsel_bot.channels.matrix.office_rooms import OfficeStaffRooms, setting_key
from counsel_bot.channels.matrix.room_settings import ENCRYPTION, counselling_power_levels
from counsel_bot.config import settings_from_mapping
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.offices import office_book
from counsel_bot.store import MemoryStore
from homeserver_bridge.admin_api import AdminClient, RegisteredUser
from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.settings import HomeserverSettings
from tests.conftest import TEST_SERVER_NAME, homeserver_test_settings
from tests.store.conftest import AeadSealer
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def unencrypting_synapse(tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EmbeddedSynapse]:
    """A real Synapse whose rooms are not encrypted by default, as an external one may be."""
    write = embedded_module.write_homeserver_config

    def not_encrypting(settings: HomeserverSettings, layout: DataLayout,
                       trusted: Collection[str], bots: Collection[str] = ()) -> Path:
        path = write(settings, layout, trusted, bots)
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("encryption_enabled_by_default_for_room_type: all", ""),
                        encoding="utf-8")
        return path

    monkeypatch.setattr(embedded_module, "write_homeserver_config", not_encrypting)
    # The bot and the team (anna, lea), as counsel names them to its homeserver.
    team = [f"@{name}:{TEST_SERVER_NAME}" for name in ("counsel", "anna", "lea")]
    synapse = EmbeddedSynapse(homeserver_test_settings(), DataLayout(tmp_path), trusted=team)
    await synapse.start()
    try:
        yield synapse
    finally:
        await synapse.stop()


async def _office_room(
    synapse: EmbeddedSynapse, http: aiohttp.ClientSession, *,
    stored_by_an_earlier_version: bool,
) -> tuple[str, RoomID | None, bool]:
    """The team's plain room configured as the office's staff room; the room the bot uses,
    and whether that one is encrypted (Megolm)."""
    secret = synapse.layout.registration_secret_file.read_text(encoding="utf-8").strip()
    anonymous = AdminClient(synapse.base_url, "", http)

    async def register(name: str) -> RegisteredUser:
        return await anonymous.register_with_shared_secret(
            secret, name, "a long passphrase of words")

    bot, anna, lea = [await register(n) for n in ("counsel", "anna", "lea")]
    team = MatrixHttp(http, synapse.base_url, anna.access_token)
    status, created = await team.create_room(name="Team Familie",
                                             invite=[bot.user_id, lea.user_id])
    assert status == 200, created
    plain = created["room_id"]
    status, _ = await team.call(
        "GET", f"/_matrix/client/v3/rooms/{quote(plain)}/state/m.room.encryption/")
    assert status == 404  # the team's room is not encrypted

    settings = settings_from_mapping({"offices": [
        {"id": "familie", "name": "Familienberatung", "topics": ["family"],
         "counsellors": [anna.user_id], "team_leads": [lea.user_id],
         "staff_room": plain}]})
    store = MemoryStore(AeadSealer())
    client = AsyncClient(synapse.base_url, bot.user_id, device_id=bot.device_id)
    client.access_token = bot.access_token
    try:
        if stored_by_an_earlier_version:
            await client.join(plain)
            await store.set_setting(setting_key("familie"), plain)
        rooms = OfficeStaffRooms(
            client, store, office_book(settings), "de",
            initial_state=[ENCRYPTION], power_levels=counselling_power_levels())
        await rooms.ensure()
        used = await rooms.room_of("familie")
    finally:
        await client.close()
    if used is None:
        return plain, None, False
    status, encryption = await MatrixHttp(http, synapse.base_url, bot.access_token).call(
        "GET", f"/_matrix/client/v3/rooms/{quote(used)}/state/m.room.encryption/")
    return plain, used, status == 200 and encryption["algorithm"] == "m.megolm.v1.aes-sha2"


async def test_an_unencrypted_configured_staff_room_is_left_for_an_encrypted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with unencrypting_synapse(tmp_path, monkeypatch) as synapse, \
            aiohttp.ClientSession() as http:
        plain, used, encrypted = await _office_room(synapse, http,
                                                    stored_by_an_earlier_version=False)
    assert used is not None
    assert used != plain
    assert encrypted


async def test_an_unencrypted_staff_room_an_earlier_version_joined_is_replaced_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Installations that already use such a room: it is kept in the store, and was never
    looked at again on a start."""
    async with unencrypting_synapse(tmp_path, monkeypatch) as synapse, \
            aiohttp.ClientSession() as http:
        plain, used, encrypted = await _office_room(synapse, http,
                                                    stored_by_an_earlier_version=True)
    assert used is not None
    assert used != plain
    assert encrypted
