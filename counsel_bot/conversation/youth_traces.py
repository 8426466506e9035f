"""Erasure beyond a conversation's own rows: the group book and waiting forum posts name
youths (account, room, nickname, text) but no conversation, so `Store.erase_conversation`
cannot find them. This forgets one conversation there: what came from its room (a seat signed
up from it, a post written from it) goes. The youth's own deletion forgets the whole account
as well (`account`: it is deactivated with erasure); retention does not, because the account
lives on and the youth may be in tonight's group from another room.

The running bot does it through its desks (`forget_in_addons`, from `Conductor.forget_traces`
and from a confirmed deletion), which hold the book and the queue in memory. `forget_stored`
is for when the bot is not running (`counsel retention` by hand holds the data directory):
the same decisions, read from and written to the store in one transition. Either way it runs
before the record is erased, because the record is how the youth is found: a crash in
between repeats it, and then it finds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import crisis_flags
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.forum import PENDING_KEY, post_key
from counsel_bot.conversation.group_crisis import crisis_key
from counsel_bot.conversation.group_keys import BOOK_KEY, kick_tag
from counsel_bot.core import groups as g
from counsel_bot.core.effects import effect_key, encode_effect
from counsel_bot.core.group_book_codec import decode_book, encode_book
from counsel_bot.core.group_effects import KickFromGroup
from counsel_bot.core.ids import RoomID
from counsel_bot.store import ConversationRecord, OutboxEntry, Store, Transition

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Addon


async def forget_in_addons(step: Change, addons: Sequence[Addon],
                           record: ConversationRecord, *, account: bool) -> None:
    """The running bot's desks (group sessions, the forum) forget the record's room, and
    with ``account`` its youth, with ``step``."""
    for addon in addons:
        await addon.forget_youth(step, record.youth_user_id, record.room_id, account=account)


def from_room(post: bytes, room: RoomID) -> bool:
    """Whether a sealed forum post (opened) was written from this room."""
    return bool(json.loads(post)["room"] == room)


async def forget_stored(store: Store, record: ConversationRecord, at: datetime) -> bool:
    """Retention by hand: forget the record's room in the stored group book and forum queue
    (as `forget_in_addons` without ``account``); True if anything changed. Only while no
    bot runs on this store (its desks would write their copy back)."""
    room = record.room_id
    sealed: list[tuple[str, bytes | None]] = []
    settings: list[tuple[str, str]] = []
    outbox: list[OutboxEntry] = []
    raw = await store.get_sealed_setting(BOOK_KEY)
    if raw is not None:
        before = decode_book(raw)
        book, forgotten = g.forget_room(before, room)
        if book != before:
            sealed.append((BOOK_KEY, encode_book(book)))
        for number, seat in forgotten:
            settings.append((crisis_flags.setting_key(crisis_key(number, seat.nickname)), ""))
            if book.get(number).state is g.GroupState.OPEN:
                kick = KickFromGroup(number, seat.youth)
                outbox.append(OutboxEntry(
                    effect_key(kick, version=0, index=0, tag=kick_tag(number, seat.nickname)),
                    encode_effect(kick), at))
    pending = [p for p in (await store.get_setting(PENDING_KEY) or "").split(",") if p]
    kept = []
    for post in pending:
        stored = await store.get_sealed_setting(post_key(post))
        if stored is None or from_room(stored, room):
            sealed.append((post_key(post), None))
        else:
            kept.append(post)
    if kept != pending:
        settings.append((PENDING_KEY, ",".join(kept)))
    if not (sealed or settings or outbox):
        return False
    snapshot = await store.load_router_snapshot()
    await store.commit_transition(Transition(at, snapshot, None, tuple(outbox),
                                             settings=tuple(settings),
                                             sealed_settings=tuple(sealed)))
    return True
