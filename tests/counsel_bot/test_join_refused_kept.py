"""A youth's invitation the bot cannot take up (the room refuses the join for good, or the
invitation is withdrawn before the join's retry) leaves no trace of the room in the store.
The retry's note (`welcome_due:<room>`, 842a43e) was "forgotten" by writing an empty value:
the youth's room id stayed in the settings table for good, where no erasure finds it (no
conversation was ever opened for it).

No server: the bot on the fakes of `test_welcome_after_stop`, sync answers made by nio's
own parser."""

from __future__ import annotations

from typing import Any

from nio import JoinError

from counsel_bot.channels.matrix.invitations import WELCOME_DUE_PREFIX
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import INVITED, ROOM, FakeClient, _bot, _sync
from tests.store.conftest import AeadSealer


class RefusedClient(FakeClient):
    """The room refuses the bot's join: for good, or first with a proxy's 502."""

    def __init__(self, *codes: str) -> None:
        super().__init__()
        self.codes = list(codes)

    async def join(self, room_id: str) -> Any:
        return JoinError("refused", self.codes.pop(0))


async def _kept(store: MemoryStore) -> list[str]:
    return [key for key, _value in await store.settings("") if ROOM in key]


async def test_a_join_refused_for_good_keeps_no_room_id() -> None:
    store, client = MemoryStore(AeadSealer()), RefusedClient("M_FORBIDDEN")
    bot = await _bot(store, client, [])
    await bot.handle_sync(INVITED)
    assert await _kept(store) == [], "the youth's room id stays in the store for good"


async def test_an_invitation_withdrawn_before_the_retry_keeps_no_room_id() -> None:
    store, client = MemoryStore(AeadSealer()), RefusedClient("502")
    bot = await _bot(store, client, [])
    await bot.handle_sync(INVITED)  # a 502: asked again later
    await bot.handle_sync(_sync("s2", leave={ROOM: {
        "timeline": {"events": [], "limited": False, "prev_batch": "p2"},
        "state": {"events": []}, "account_data": {"events": []}}}))
    assert await _kept(store) == [], "the youth's room id stays in the store for good"


async def test_a_room_noted_empty_by_an_older_version_is_deleted_at_the_start() -> None:
    """Up to 41fc6f4 the note was emptied, not deleted: a store an older version wrote keeps
    those youths' room ids for good, and the upgrade deleted none of them."""
    store, client = MemoryStore(AeadSealer()), FakeClient()
    await store.set_setting(f"{WELCOME_DUE_PREFIX}{ROOM}", "")  # a join refused last year
    bot = await _bot(store, client, [])
    await bot.handle_sync(_sync("s1"))
    assert await _kept(store) == [], "the youth's room id stays in the store for good"
