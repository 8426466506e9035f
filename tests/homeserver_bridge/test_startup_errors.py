"""When Synapse cannot start, the admin gets Synapse's own reason in one line, quickly."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from homeserver_bridge.embedded import EmbeddedSynapse, synapse_failure_reason
from homeserver_bridge.errors import SynapseStartError
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import admin_client
from tests.conftest import homeserver_test_settings

pytestmark = pytest.mark.integration


async def test_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        embedded = EmbeddedSynapse(homeserver_test_settings(port=port), DataLayout(tmp_path),
                                   trusted=())
        with pytest.raises(SynapseStartError, match=f"port {port} .* already in use"):
            await embedded.start()


async def test_synapse_own_reason_is_shown(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path)
    layout.prepare()
    (layout.synapse_dir / "signing.key").write_text("this is not a signing key\n")
    embedded = EmbeddedSynapse(homeserver_test_settings(), layout, trusted=())
    with pytest.raises(SynapseStartError) as caught:
        await embedded.start()
    message = str(caught.value)
    assert "Error reading signing_key" in message
    assert "\n" not in message
    assert not embedded.running


def test_failure_reason_prefers_the_error_line() -> None:
    log = "starting\nError in configuration:\n  Error reading signing_key: bad\nnext\n"
    assert synapse_failure_reason(log) == (
        "Error in configuration: Error reading signing_key: bad"
    )
    assert synapse_failure_reason("") == "it exited without output"


async def test_a_changed_server_name_is_said_not_a_row_of_stars(tmp_path: Path) -> None:
    """The first `counsel up` writes counsel.toml with server_name = "counsel.localhost";
    an administrator then sets the real name and starts again. Synapse refuses (its users
    belong to the old name) and said so, but the one line counsel printed was the row of
    asterisks under Synapse's message: "Synapse stopped during start: *****..."."""
    layout = DataLayout(tmp_path)
    first = EmbeddedSynapse(homeserver_test_settings(), layout, trusted=())
    await first.start()
    try:
        async with aiohttp.ClientSession() as http:
            await admin_client(first.base_url, layout, http)  # a user of the first name
    finally:
        await first.stop()
    renamed = EmbeddedSynapse(homeserver_test_settings(server_name="beratung.example.org"),
                              layout, trusted=())
    with pytest.raises(SynapseStartError) as caught:
        await renamed.start()
    reason = str(caught.value).split(" (full log: ")[0]
    assert "not native to beratung.example.org" in reason
    assert "server_name" in reason
    assert "**" not in reason
    assert not renamed.running
