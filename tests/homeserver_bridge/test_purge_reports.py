"""A room's purge (retention, a youth's deletion, a group's end) takes the reports made on
its messages too, on the real Synapse. Its room deletion leaves them in its database, the
reason in plain text, and its admin API lists a report only while its room exists: one
the bot had not read yet when the room went stayed there for good, readable to whoever
reads the database, and no tool of ours would ever find it."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from urllib.parse import quote

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration


async def test_purging_a_room_deletes_the_reports_made_in_it(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    youth = await user_factory("youth-reporting")
    matrix = MatrixHttp(synapse.http, synapse.base_url, youth.access_token)
    status, created = await matrix.create_room(preset="private_chat")
    assert status == 200, created
    room = created["room_id"]
    status, sent = await matrix.call(
        "PUT", f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/t1",
        {"msgtype": "m.text", "body": "hallo"})
    assert status == 200, sent
    canary = f"er droht mir KANARIENVOGEL-{secrets.token_hex(6)}"
    status, answer = await matrix.call(
        "POST", f"/_matrix/client/v3/rooms/{quote(room)}/report/{quote(sent['event_id'])}",
        {"reason": canary})
    assert status == 200, answer
    assert _reasons(synapse, room) == [canary]

    await synapse.admin.delete_room_and_wait(room)

    assert not await synapse.admin.room_exists(room)
    assert _reasons(synapse, room) == [], "the report's reason is still on the homeserver"


def _reasons(synapse: SynapseHandle, room: str) -> list[str]:
    database = synapse.layout.synapse_dir / "homeserver.db"
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
        rows = db.execute("SELECT reason FROM event_reports WHERE room_id = ?",
                          (room,)).fetchall()
    return [str(reason) for (reason,) in rows]
