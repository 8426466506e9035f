"""A youth moved to the bot's own room who reports a message in the room they were moved out
of (their app's "Report": somebody else wrote there, "er droht mir") is the youth of the
conversation their words there count in (room_moves.py). The reason goes to that
conversation's office, named, as a report from its room does; before, the first room had
no conversation of its own, so the youth's words went unnamed to the main staff room, where
every office's staff read them.

No server: the bot on the fakes of `test_welcome_after_stop`, with two offices."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from nio import RoomMessage

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.conversation import offices
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.reports import pass_on_reports
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_event_reports import Reports, report
from tests.counsel_bot.test_welcome_after_stop import (
    AT,
    INVITED,
    JOINED,
    ROOM,
    YOUTH,
    FakeClient,
    waits_in_the_first_room,
)
from tests.groups.test_group_offices import two_offices
from tests.store.conftest import AeadSealer


async def _bot(store: MemoryStore, client: FakeClient) -> CounselBot:
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(two_offices()), AT)

    async def send(room_id: str, body: str, key: str) -> None:
        return None

    async def perform(_effect: object, _key: str) -> None:
        return None

    executor = SimpleNamespace(perform=perform, send=send, admin=None, protected=frozenset())
    return CounselBot(client, conductor, executor, FakeClock(AT),  # type: ignore[arg-type]
                      default_language="de", undecryptable_grace=timedelta(seconds=5))


async def test_a_report_from_the_first_room_reaches_the_office_of_the_youths_conversation(
) -> None:
    store, client = MemoryStore(AeadSealer()), FakeClient()
    bot = await _bot(store, client)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    assert await waits_in_the_first_room(bot, client)
    said = RoomMessage.parse_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": "$w1", "origin_server_ts": 11,
        "room_id": ROOM, "content": {"msgtype": "m.text", "body": "stress in der schule"}})
    assert isinstance(said, RoomMessage)
    await bot._on_room_event_once(RoomID(ROOM), said)
    record = await store.conversation_by_room(RoomID("!new1:x"))
    assert record is not None  # counted in the bot's room
    c = bot.conductor
    office = offices.staff_office(record.conversation, c.router, c.policy.router.offices,
                                  c.policy.offices)
    before = {o.key for o in await store.pending_outbox()}

    await pass_on_reports(Reports(report(1, ROOM, "der typ hier droht mir")), c, FakeClock(AT))

    [told] = [e for o in await store.pending_outbox() if o.key not in before
              if isinstance(e := decode_effect(o.payload), SayToStaff)
              and e.key.startswith("staff_report")]
    assert dict(told.params)["where"] == record.conversation
    assert told.office == office, "a youth's words in the staff room every office reads"
