"""Erasure in nio's store (bot/nio/), beside counsel's own.

nio keeps, in the clear, the rooms it decrypts (``encryptedrooms``, and the room id beside
each Megolm session that decrypts what was written there) and every account it shares a room
with (``devicekeys``, with their keys and the Olm sessions with their devices). Counsel's
database seals youth ids, and erasure must reach this file too: once a conversation's room is
purged, its keys go; once a youth's account is erased ("ja löschen"), the account and its
devices go. nio opens its database with ``secure_delete``, so the rows are overwritten on disk.
nio's memory is then read again from the store (`OlmMachine.load`), so nothing writes them
back; the room keys the bot kept of its own messages there (`room_keys`) go too.
Repeatable: a second run finds nothing.
"""

from __future__ import annotations

from nio import AsyncClient

from counsel_bot.channels.matrix.session import CounselClient
from counsel_bot.core.ids import RoomID, UserID

_ROOM = (
    "DELETE FROM forwardedchains WHERE session_id IN "
    "(SELECT session_id FROM megolminboundsessions WHERE room_id = ?)",
    "DELETE FROM megolminboundsessions WHERE room_id = ?",
    "DELETE FROM encryptedrooms WHERE room_id = ?",
    "DELETE FROM outgoingkeyrequests WHERE room_id = ?",
)
_ACCOUNT = (
    "DELETE FROM olmsessions WHERE sender_key IN (SELECT key FROM keys WHERE key_type = "
    "'curve25519' AND device_id IN (SELECT id FROM devicekeys WHERE user_id = ?))",
    "DELETE FROM keys WHERE device_id IN (SELECT id FROM devicekeys WHERE user_id = ?)",
    "DELETE FROM devicetruststate WHERE device_id IN "
    "(SELECT id FROM devicekeys WHERE user_id = ?)",
    "DELETE FROM devicekeys WHERE user_id = ?",
)


def forget_in_nio(client: AsyncClient, room: RoomID, youth: UserID | None) -> None:
    """Forget ``room`` (purged) and, with ``youth``, that account (erased) in nio's store
    and memory."""
    if isinstance(client, CounselClient):
        # The room keys the bot kept of what it wrote there (`room_keys`), in memory.
        client.room_keys.forget_room(room)
    olm, store = client.olm, client.store
    if olm is None or store is None:
        return
    statements: list[tuple[str, str]] = [(sql, room) for sql in _ROOM]
    if youth is not None and youth.startswith("@"):
        statements += [(sql, youth) for sql in _ACCOUNT]
        olm.tracked_users.discard(youth)
        olm.users_for_key_query.discard(youth)
    database = store.database
    with database.atomic():
        for sql, param in statements:
            database.execute_sql(sql, (param,))
    olm.load()
