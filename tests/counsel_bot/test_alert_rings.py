"""A staff notice that names somebody (a crisis in a report or a chat, a page to the leads)
is meant to ring their phone: "a page must ring somebody's phone" (`every_lead`). The
homeserver's default push rules, which the staff's apps apply to the decrypted message,
silence every m.notice before they look for a mention (`.m.rule.suppress_notices` comes
first): such a notice was shown, and rang nobody. Real Synapse: the push rules a fresh
account has."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from nio import (
    AsyncClient,
    MatrixRoom,
    PushNotify,
    PushRulesEvent,
    RoomMessage,
    RoomSendResponse,
)

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import MemoryStore
from tests.conftest import SynapseHandle, UserFactory
from tests.store.conftest import AeadSealer
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration

STAFF_ROOM = RoomID("!staff:x")


async def sent_content(mentions: tuple[UserID, ...]) -> dict[str, Any]:
    """What the bot sends for a staff notice naming ``mentions``."""
    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")
    sent: list[dict[str, Any]] = []

    async def room_send(room_id: str, message_type: str, content: dict[str, Any],
                        **kwargs: Any) -> object:
        sent.append(content)
        return RoomSendResponse("$alert", room_id)

    client.room_send = room_send  # type: ignore[method-assign]

    async def staff_room() -> RoomID | None:
        return STAFF_ROOM

    executor = Executor(client, MemoryStore(AeadSealer()), FakeClock(datetime.now(UTC)),
                        default_language="de", staff_room=staff_room)
    await executor.send(STAFF_ROOM, "⚠️ KRISENWÖRTER IN EINER MELDUNG", "k1",
                        mentions=mentions)
    await client.close()
    [content] = sent
    return content


async def test_a_notice_naming_a_lead_rings_their_phone(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    lead = await user_factory("lead-rung")
    content = await sent_content((UserID(lead.user_id),))
    status, rules = await MatrixHttp(synapse.http, synapse.base_url, lead.access_token).call(
        "GET", "/_matrix/client/v3/pushrules/")
    assert status == 200, rules
    ruleset = PushRulesEvent.from_dict({"type": "m.push_rules", "content": rules}).global_rules
    event = RoomMessage.parse_event({
        "type": "m.room.message", "sender": "@counsel:x", "event_id": "$alert",
        "origin_server_ts": 0, "room_id": STAFF_ROOM, "content": content})
    room = MatrixRoom(STAFF_ROOM, lead.user_id)
    first = next(rule for kind in (ruleset.override, ruleset.content, ruleset.room,
                                   ruleset.sender, ruleset.underride)
                 for rule in kind if rule.matches(event, room, "Lea"))
    assert any(isinstance(a, PushNotify) for a in first.actions), \
        f"silenced by {first.id}: the lead's phone stays quiet"
