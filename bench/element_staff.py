"""A second device of a bench counsellor on Element's own stack (matrix-js-sdk + Rust crypto).

The crisis alert's delivery to a nio staff client grows when that counsellor sits in their
youths' rooms (its sync then also carries, and nio decrypts, their traffic). A counsellor at
work runs Element, so the same alert is timed on both devices of the same account: the same
event, the same rooms, the same sync traffic; what differs is the client. The device signs
nothing (the bench's accounts have no cross-signing, and a cross-signed account would make
the nio device "unsigned", which changes routing).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bench.env import Account
from counsel_bot.core.ids import RoomID, UserID
from tests.support.js_client import JsClient

SETUP_TIMEOUT = 60.0


async def open_device(base_url: str, account: Account) -> JsClient:
    client = await JsClient.spawn()
    try:
        await client.login(base_url, account.user_id, account.password, strict=False,
                           cross_sign=False)
        await client.start(within=SETUP_TIMEOUT)
    except BaseException:
        await client.close()
        raise
    return client


@dataclass
class Watch:
    """The first counsellor's Element-stack device, the bot that alerts, and each alert's
    time on the counsellor's nio device and on this one (from the youth's send)."""

    client: JsClient
    bot: str
    nio: list[float] = field(default_factory=list)
    element: list[float] = field(default_factory=list)


def watch_alert(client: JsClient, staff_room: str, bot: str, youth_room: str,
                sent_wall: float, within: float) -> asyncio.Task[float]:
    """Seconds from ``sent_wall`` until this device had the alert for ``youth_room``
    decrypted (wall clock on both sides: one machine)."""
    async def seen() -> float:
        message = await client.wait_for_message(
            RoomID(staff_room), sender=UserID(bot), contains=["⚠️", youth_room],
            after_ms=int(sent_wall * 1000), within=within)
        return message.decrypted_ms / 1000 - sent_wall

    return asyncio.create_task(seen())
