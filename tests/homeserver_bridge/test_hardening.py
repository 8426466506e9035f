"""The embedded Synapse is hardened as promised: checked on the real server, not the YAML."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio

from homeserver_bridge.embedded import EmbeddedSynapse
from homeserver_bridge.paths import DataLayout
from tests.conftest import SynapseHandle, UserFactory, homeserver_test_settings
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration


async def test_federation_endpoints_are_absent(synapse: SynapseHandle) -> None:
    anonymous = MatrixHttp(synapse.http, synapse.base_url)
    for path in ("/_matrix/federation/v1/version", "/_matrix/key/v2/server"):
        status, _ = await anonymous.call("GET", path)
        assert status == 404, path


async def test_new_rooms_are_encrypted_even_when_the_client_does_not_ask(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    user = await user_factory("alice")
    client = MatrixHttp(synapse.http, synapse.base_url, user.access_token)
    status, room = await client.create_room(name="plain", preset="private_chat")
    assert status == 200
    room_id = quote(room["room_id"])
    status, encryption = await client.call(
        "GET", f"/_matrix/client/v3/rooms/{room_id}/state/m.room.encryption/"
    )
    assert status == 200
    assert encryption["algorithm"] == "m.megolm.v1.aes-sha2"


async def test_url_previews_are_refused(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    user = await user_factory("bob")
    client = MatrixHttp(synapse.http, synapse.base_url, user.access_token)
    for path in (
        "/_matrix/client/v1/media/preview_url?url=http%3A%2F%2F127.0.0.1%2F",
        "/_matrix/media/v3/preview_url?url=http%3A%2F%2F127.0.0.1%2F",
    ):
        status, _ = await client.call("GET", path)
        assert status in (403, 404), path


async def test_rooms_cannot_be_published_in_the_directory(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    user = await user_factory("carol")
    client = MatrixHttp(synapse.http, synapse.base_url, user.access_token)
    # Synapse creates the room but refuses to list it; asking to list it later is refused.
    status, room = await client.create_room(visibility="public", name="everyone")
    assert status in (200, 403), room
    status, directory = await client.call("GET", "/_matrix/client/v3/publicRooms")
    assert directory.get("chunk", []) == []
    if "room_id" in room:
        status, _ = await client.call(
            "PUT",
            f"/_matrix/client/v3/directory/list/room/{quote(room['room_id'])}",
            {"visibility": "public"},
        )
        assert status == 403


async def test_profiles_are_hidden_from_users_who_share_no_room(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    alice, bob = await user_factory("alice"), await user_factory("bob")
    client = MatrixHttp(synapse.http, synapse.base_url, alice.access_token)
    status, _ = await client.call("GET", f"/_matrix/client/v3/profile/{quote(bob.user_id)}")
    assert status == 403
    status, found = await client.call(
        "POST", "/_matrix/client/v3/user_directory/search", {"search_term": bob.localpart}
    )
    assert status == 200
    assert found["results"] == []


async def test_presence_is_off(synapse: SynapseHandle, user_factory: UserFactory) -> None:
    alice = await user_factory("alice")
    client = MatrixHttp(synapse.http, synapse.base_url, alice.access_token)
    status, presence = await client.call(
        "GET", f"/_matrix/client/v3/presence/{quote(alice.user_id)}/status"
    )
    # With presence disabled Synapse reports nobody as online, whatever they do.
    assert status == 200
    assert presence.get("presence") != "online"


async def test_token_policy_requires_a_registration_token(synapse: SynapseHandle) -> None:
    anonymous = MatrixHttp(synapse.http, synapse.base_url)
    body = {"username": "nickname-token", "password": "a long passphrase 42"}
    status, flows = await anonymous.call("POST", "/_matrix/client/v3/register", body)
    assert status == 401
    stages = {stage for flow in flows["flows"] for stage in flow["stages"]}
    assert "m.login.registration_token" in stages
    assert not any("email" in s or "msisdn" in s for s in stages)

    token = await synapse.admin.create_registration_token(uses_allowed=1)
    auth = {"type": "m.login.registration_token", "token": token.token,
            "session": flows["session"]}
    status, registered = await anonymous.call(
        "POST", "/_matrix/client/v3/register", {**body, "auth": auth}
    )
    if status == 401:  # Synapse may ask for the dummy stage after the token stage.
        auth = {"type": "m.login.dummy", "session": flows["session"]}
        status, registered = await anonymous.call(
            "POST", "/_matrix/client/v3/register", {**body, "auth": auth}
        )
    assert status == 200, registered
    assert registered["user_id"] == f"@nickname-token:{synapse.server_name}"
    # Single use: the token is spent.
    [spent] = [t for t in await synapse.admin.list_registration_tokens() if t.token == token.token]
    assert spent.completed == 1


async def test_a_short_password_is_refused_before_any_code_is_spent(
    synapse: SynapseHandle,
) -> None:
    """A nickname is easy to guess and the login limit allows hundreds of tries an hour:
    a youth's "hallo123" would be found. Refused at once, with Synapse's own error (which
    Element and FluffyChat show), before the registration code is asked for."""
    anonymous = MatrixHttp(synapse.http, synapse.base_url)
    body = {"username": "nickname-short", "password": "hallo123"}
    status, refused = await anonymous.call("POST", "/_matrix/client/v3/register", body)
    assert status == 400, refused
    assert refused["errcode"] == "M_PASSWORD_TOO_SHORT"


@pytest_asyncio.fixture(loop_scope="session")
async def extra_synapse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EmbeddedSynapse]:
    layout = DataLayout(tmp_path_factory.mktemp("policy"))
    embedded = EmbeddedSynapse(homeserver_test_settings(registration=request.param), layout,
                              trusted=())
    await embedded.start()
    yield embedded
    await embedded.stop()


@pytest.mark.parametrize("extra_synapse", ["open"], indirect=True)
async def test_open_policy_needs_only_a_nickname_and_password(
    extra_synapse: EmbeddedSynapse,
) -> None:
    async with aiohttp.ClientSession() as http:
        anonymous = MatrixHttp(http, extra_synapse.base_url)
        body = {"username": "sunflower", "password": "a long passphrase 42",
                "auth": {"type": "m.login.dummy"}}
        status, registered = await anonymous.call("POST", "/_matrix/client/v3/register", body)
        assert status == 200, registered
        assert registered["user_id"].startswith("@sunflower:")


@pytest.mark.parametrize("extra_synapse", ["closed"], indirect=True)
async def test_closed_policy_refuses_sign_up(extra_synapse: EmbeddedSynapse) -> None:
    async with aiohttp.ClientSession() as http:
        anonymous = MatrixHttp(http, extra_synapse.base_url)
        body = {"username": "sunflower", "password": "a long passphrase 42",
                "auth": {"type": "m.login.dummy"}}
        status, refused = await anonymous.call("POST", "/_matrix/client/v3/register", body)
        assert status == 403, refused


def test_secrets_and_admin_token_are_private(synapse: SynapseHandle) -> None:
    layout = synapse.layout
    for path in (
        layout.admin_token_file,
        layout.registration_secret_file,
        layout.synapse_dir / "macaroon_secret_key",
        layout.synapse_dir / "homeserver.yaml",
        layout.synapse_dir / "homeserver.db",
    ):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} is mode {oct(mode)}"
