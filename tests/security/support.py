"""Shared helpers for the security tests: users for module-wide offices, and a watch on the
in-process bot that says when it has handled an event and what it said where.

Why a watch instead of waiting on a client: a denial often means *no* reply, and "nothing
arrived within N seconds" is a fixed sleep in disguise. The watch knows when the bot has
finished with an event (its sync batch was handled and nothing waits for a key), so a test
can then assert that nothing was said without waiting for anything else.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nio import RoomSendResponse, SyncResponse

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.core.routing.model import ConversationSnapshot, CounsellorSnapshot
from tests.conftest import SynapseHandle
from tests.support.bot_harness import BotProcess, NioYouth, until

_serial = itertools.count(1)


async def new_client(synapse: SynapseHandle, tmp: Path, prefix: str) -> NioYouth:
    """A fresh user, logged in with nio and syncing (usable from module-scoped fixtures,
    where the function-scoped ``user_factory`` is not)."""
    localpart = f"sec-{prefix}-{next(_serial)}-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    user = await synapse.admin.register_with_shared_secret(
        synapse.shared_secret, localpart, password
    )
    client = await NioYouth.login(synapse.base_url, user.user_id, password, tmp / localpart)
    client.start()
    return client


def user_of(client: NioYouth) -> UserID:
    return UserID(client.client.user_id)


async def send_content(client: NioYouth, room: str, content: dict[str, Any]) -> str:
    """Send an m.room.message with exactly ``content``; return its event id."""
    await until(lambda: client._has_joined_member(room), what="someone to share keys with")
    answer = await client.client.room_send(room, "m.room.message", content,
                                           ignore_unverified_devices=True)
    assert isinstance(answer, RoomSendResponse), answer
    return str(answer.event_id)


async def send_text(client: NioYouth, room: str, body: str) -> str:
    return await send_content(client, room, {"msgtype": "m.text", "body": body})


@dataclass
class BotWatch:
    """Spies on one running bot: event ids it has finished handling, and what it sent."""

    bot: CounselBot
    settled: set[str] = field(default_factory=set)
    invites_seen: set[str] = field(default_factory=set)
    said: list[tuple[str, str]] = field(default_factory=list)  # (room, body)
    _waiting: set[str] = field(default_factory=set)

    @classmethod
    def attach(cls, bot: CounselBot) -> BotWatch:
        watch = cls(bot)
        handle_sync, send = bot.handle_sync, bot.executor.send

        async def handled(response: SyncResponse) -> None:
            await handle_sync(response)
            waiting = {str(event_id) for event_id, _ in bot.undecryptable.pending()}
            # Decrypted (or given up on) in this batch's retry: handled now.
            watch.settled.update(watch._waiting - waiting)
            watch._waiting = waiting
            for info in response.rooms.join.values():
                watch.settled.update(e.event_id for e in info.timeline.events
                                     if getattr(e, "event_id", None) not in waiting)
            watch.invites_seen.update(response.rooms.invite)

        async def sent(room_id: RoomID, body: str, key: str, *,
                       mentions: tuple[UserID, ...] = ()) -> None:
            await send(room_id, body, key, mentions=mentions)
            watch.said.append((room_id, body))

        bot.handle_sync = handled  # type: ignore[method-assign]
        bot.executor.send = sent  # type: ignore[method-assign]
        return watch

    def mark(self) -> int:
        return len(self.said)

    def said_in(self, room: str, since: int = 0) -> list[str]:
        return [body for r, body in self.said[since:] if r == room]

    async def settle(self, event_id: str, within: float = 30) -> None:
        """Wait until the bot has handled ``event_id`` and performed every effect it caused."""
        await until(lambda: event_id in self.settled, within=within,
                    what="the bot to handle the event")

        async def outbox_empty() -> bool:
            return not await self.bot.store.pending_outbox()

        await until(outbox_empty, within=within, what="the bot's outbox to drain")

    async def reply(self, room: str, since: int, expected: str, within: float = 30) -> str:
        """The bot's first message in ``room`` after ``since`` that contains ``expected``."""
        def seen() -> bool:
            return any(expected in body for body in self.said_in(room, since))
        try:
            await until(seen, within=within, what=f"the bot to say {expected!r}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; it said: {self.said_in(room, since)}") from None
        return next(body for body in self.said_in(room, since) if expected in body)


def routing_state(process: BotProcess) -> tuple[tuple[ConversationSnapshot, ...],
                                                tuple[CounsellorSnapshot, ...]]:
    """The router's conversations and staff, without what time alone changes: the version
    (ticks bump it) and the last queue notice of a waiting conversation."""
    assert process.bot is not None
    snapshot = process.bot.conductor.router.snapshot()
    conversations = tuple(replace(c, last_notice=None) for c in snapshot.conversations)
    return conversations, snapshot.counsellors


async def intake(process: BotProcess, conversation: ConversationID) -> list[str]:
    assert process.bot is not None
    items = await process.bot.store.read_intake(conversation)
    return [item.body.decode("utf-8") for item in items]


async def conversation_of(process: BotProcess, room: str) -> ConversationID:
    assert process.bot is not None
    bot = process.bot

    async def known() -> bool:
        return await bot.store.conversation_by_room(RoomID(room)) is not None

    await until(known, what="the bot to record the conversation")
    record = await bot.store.conversation_by_room(RoomID(room))
    assert record is not None
    return record.conversation


def refusal(key: str, to: UserID, **params: object) -> str:
    """The exact reply body the bot sends to a staff member for ``key`` (German default)."""
    return f"{to}: {text(key, 'de', **params)}"
