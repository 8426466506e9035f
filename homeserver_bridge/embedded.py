"""Run the embedded Synapse as a child process: configure, start, wait for readiness, stop.

Synapse runs in its own process (Twisted reactor) with its own session, so a Ctrl-C reaches
counsel first and counsel decides the order of shutdown: the bot stops before its homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Collection
from pathlib import Path
from typing import IO

import aiohttp

from homeserver_bridge.child_process import tied_to_parent
from homeserver_bridge.errors import SynapseStartError
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.settings import HomeserverSettings
from homeserver_bridge.synapse_config import write_homeserver_config

log = logging.getLogger(__name__)


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def synapse_failure_reason(log_text: str) -> str:
    """The line of Synapse's output that says why it stopped, for a one-line message.

    Synapse prints configuration errors as a heading with indented detail lines below it;
    those are joined so the admin sees the detail, not just "Error in configuration:".
    An error while it sets up (a server_name changed after the first start, say) ends in a
    traceback framed by rows of asterisks: the reason is the traceback's last line, and a
    frame is never one.
    """
    lines = [line.rstrip() for line in log_text.splitlines() if any(c.isalnum() for c in line)]
    markers = ("Error in configuration", "CannotListenError", "ConfigError", "Error:", "error:",
               "Exception:")
    for index in range(len(lines) - 1, -1, -1):
        if any(marker in lines[index] for marker in markers):
            detail = [lines[index].strip()]
            indent = _indent(lines[index])
            for follower in lines[index + 1 :]:
                if not follower.startswith((" ", "\t")) or _indent(follower) < indent:
                    break
                detail.append(follower.strip())
            return " ".join(detail)[-400:]
    return lines[-1].strip()[-400:] if lines else "it exited without output"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class EmbeddedSynapse:
    """One Synapse process serving one data directory."""

    def __init__(
        self, settings: HomeserverSettings, layout: DataLayout, *, trusted: Collection[str],
        bots: Collection[str] = (), python: str = sys.executable,
    ) -> None:
        """``trusted``: the bot and the staff (homeserver_bridge/contact_rules.py); every
        other account may invite only them (the staff only where one of the ``bots`` is)
        and make no open rooms."""
        self.settings = settings
        self.layout = layout
        self.trusted = tuple(trusted)
        self.bots = tuple(bots)
        self._python = python
        self._process: asyncio.subprocess.Process | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.layout.synapse_dir / "homeserver.log"

    @property
    def base_url(self) -> str:
        return self.settings.client_url

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start Synapse and return once /health answers; raise SynapseStartError otherwise."""
        self.layout.prepare()
        host, port = self.settings.bind_address, self.settings.port
        if not port_is_free(host, port):
            raise SynapseStartError(
                f"port {port} on {host} is already in use by another program; stop that program "
                "or set homeserver.port in counsel.toml"
            )
        config = write_homeserver_config(self.settings, self.layout, self.trusted, self.bots)
        if not (self.layout.synapse_dir / "signing.key").exists():
            await self._generate_keys(config)
        self._log_handle = self.log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            self._python, "-m", "synapse.app.homeserver", "-c", str(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=self._log_handle,
            start_new_session=True,
            # Synapse stops cleanly on SIGTERM, and nothing of it waits on counsel.
            preexec_fn=tied_to_parent(signal.SIGTERM),
        )
        await self._wait_ready()
        log.info("synapse ready on %s", self.base_url)

    async def _generate_keys(self, config: Path) -> None:
        process = await asyncio.create_subprocess_exec(
            self._python, "-m", "synapse.app.homeserver", "-c", str(config), "--generate-keys",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            reason = synapse_failure_reason(output.decode("utf-8", "replace"))
            raise SynapseStartError(f"Synapse could not create its signing key: {reason}")

    async def _wait_ready(self) -> None:
        assert self._process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.start_timeout
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while loop.time() < deadline:
                if self._process.returncode is not None:
                    raise SynapseStartError(self._exit_message())
                if await _healthy(http, self.base_url):
                    return
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._process.wait(), 0.1)
        await self.stop()
        raise SynapseStartError(
            f"Synapse did not become ready within {self.settings.start_timeout:.0f} s; "
            f"its log is {self.log_path}"
        )

    def _exit_message(self) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")[-20000:]
        return (
            f"Synapse stopped during start: {synapse_failure_reason(text)} "
            f"(full log: {self.log_path})"
        )

    async def exited(self) -> int:
        """Wait until Synapse ends (on its own: a crash, the OOM killer); its exit status."""
        process = self._process
        if process is None:
            raise SynapseStartError("Synapse was not started")
        return await process.wait()

    async def stop(self, grace_period: float = 20.0) -> None:
        """Stop Synapse gracefully (SIGTERM), forcefully after ``grace_period`` seconds."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), grace_period)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None


async def _healthy(http: aiohttp.ClientSession, base_url: str) -> bool:
    try:
        async with http.get(f"{base_url}/health") as response:
            return response.status == 200
    except (TimeoutError, aiohttp.ClientError):
        return False
