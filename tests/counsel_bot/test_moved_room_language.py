"""A youth who writes in English in a room the bot moves them out of: their words go along
to the new room, and the first room is told so, with the numbers. The youth-text review
found that pointer (and the one after declining the new room) always in the installation's
language, with its numbers: German for a youth whose conversation is English, while the
pointer to an open chat (`second_chat_reminder`) speaks the conversation's language.

No server: the bot on the fakes of `test_welcome_after_stop`."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from nio import RoomMessage

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import RoomID
from counsel_bot.core.messages import text
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import AT, INVITED, JOINED, ROOM, YOUTH, FakeClient
from tests.store.conftest import AeadSealer


async def test_words_taken_along_are_told_in_the_youths_language() -> None:
    policy = policy_from(Settings())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, AT)
    sent: list[tuple[str, str]] = []

    async def send(room_id: str, body: str, key: str) -> None:
        sent.append((room_id, body))

    async def perform(_effect: object, _key: str) -> None:
        return None

    executor = SimpleNamespace(perform=perform, send=send, admin=None, protected=frozenset())
    bot = CounselBot(FakeClient(), conductor, executor, FakeClock(AT),  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # moved: the room is not encrypted
    said = RoomMessage.parse_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": "$w1",
        "origin_server_ts": 10, "room_id": ROOM,
        "content": {"msgtype": "m.text", "body": "hi, I really need someone to talk to"}})
    await bot._on_room_event_once(RoomID(ROOM), said)

    record = await conductor.store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None
    assert record.language == "en"
    told = [body for room, body in sent if room == ROOM]
    assert text("moved_room_reminder", "en", emergency=policy.emergency["en"]) in told


def test_what_is_said_before_any_words_points_english_writers_on_in_english() -> None:
    """Said on joining, before the youth has written a word, a text is in the installation's
    language. The greeting and the shared room's text add a line in English; the two that
    ask a youth to move to a new room did not, and an English-writing youth who did not
    understand them stayed where counselling cannot happen."""
    for key in ("greeting", "shared_room", "unencrypted_room", "moving_room"):
        shown = text(key, "de")
        assert "(English" in shown or "(You can write in English" in shown, key
