"""When Synapse cannot start, the admin gets Synapse's own reason in one line, quickly."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from homeserver_bridge.embedded import EmbeddedSynapse, synapse_failure_reason
from homeserver_bridge.errors import SynapseStartError
from homeserver_bridge.paths import DataLayout
from tests.conftest import homeserver_test_settings

pytestmark = pytest.mark.integration


async def test_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        embedded = EmbeddedSynapse(homeserver_test_settings(port=port), DataLayout(tmp_path))
        with pytest.raises(SynapseStartError, match=f"port {port} .* already in use"):
            await embedded.start()


async def test_synapse_own_reason_is_shown(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path)
    layout.prepare()
    (layout.synapse_dir / "signing.key").write_text("this is not a signing key\n")
    embedded = EmbeddedSynapse(homeserver_test_settings(), layout)
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
