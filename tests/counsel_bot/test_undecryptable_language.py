"""A message the bot cannot decrypt within its grace: the youth is asked to send it again.
The youth-text review found that ask always in the installation's language: German for a
youth whose conversation is English, who may not understand it and so never sends again
what may have been the one message that mattered.

No server: the bot on the fakes of `test_welcome_after_stop`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from nio.exceptions import EncryptionError

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import AT, YOUTH, FakeClient
from tests.store.conftest import AeadSealer

ROOM = RoomID("!dm:x")


class NoKeyClient(FakeClient):
    def decrypt_event(self, event: Any) -> Any:
        raise EncryptionError("no session")


ANNA = "@anna:x"


@dataclass
class Unread:
    """What the bot did about a message it could not read: texts sent (room, body) and
    effects performed (effect, key)."""

    conductor: Conductor
    sent: list[tuple[str, str]] = field(default_factory=list)
    performed: list[tuple[object, str]] = field(default_factory=list)


async def unread(first_words: str, writer: str) -> Unread:
    """A youth wrote ``first_words``; a message of ``writer``'s in their chat then stays
    unreadable for the bot past its grace (Anna is a counsellor)."""
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    settings = Settings(staff=StaffSettings(counsellors=(ANNA,)))
    conductor = await Conductor.open(MemoryStore(AeadSealer()), detector,
                                     policy_from(settings), AT)
    await conductor.youth_wrote(ROOM, UserID(YOUTH), None, EventID("$w1"), first_words, AT)
    done = Unread(conductor)

    async def send(room_id: str, body: str, key: str) -> None:
        done.sent.append((room_id, body))

    async def perform(effect: object, key: str) -> None:
        done.performed.append((effect, key))

    executor = SimpleNamespace(perform=perform, send=send, admin=None, protected=frozenset())
    clock = FakeClock(AT)
    bot = CounselBot(NoKeyClient(), conductor, executor, clock,  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    lost = SimpleNamespace(event_id="$w2", sender=writer, room_id=ROOM)
    bot.undecryptable.add(EventID("$w2"), ROOM, lost, clock.now())  # type: ignore[arg-type]
    clock.advance(timedelta(seconds=6))
    await bot.waiting_keys.retry()
    return done


async def test_an_english_youth_is_asked_in_english_to_send_again() -> None:
    done = await unread("hi, I really need someone to talk to", YOUTH)
    record = await done.conductor.store.conversation_by_room(ROOM)
    assert record is not None
    assert record.language == "en"
    assert done.sent == [(ROOM, text("undecryptable", "en"))]


async def test_a_counsellors_message_the_bot_cannot_read_asks_the_youth_nothing() -> None:
    """The bot could not decrypt a counsellor's answer in a youth's chat (their app had not
    shared its key with the bot's device). The youth, who had sent nothing since, was told
    their last message could not be read and asked to send it again: they sent again what
    they had written before, or wondered what of theirs was lost."""
    done = await unread("hallo, ich brauche jemanden zum reden", ANNA)
    assert done.sent == [], "the youth was asked to send again a message they never sent"


async def test_a_counsellor_whose_message_the_bot_cannot_read_is_told_in_the_staff_room(
) -> None:
    """A counsellor's `!chat end` the bot cannot decrypt (their app did not give it the
    room key) did nothing, and nobody said so: the counsellor believed the code's holder
    out of the room. They are told now, in the staff room (the conversation, never the
    text, which the bot has not got), that a command of theirs there must be sent again."""
    done = await unread("hallo, ich brauche jemanden zum reden", ANNA)
    notices = [effect for effect, _ in done.performed if isinstance(effect, SayToStaff)]
    assert len(notices) == 1, done.performed
    notice = notices[0]
    assert notice.key == "unreadable_staff_message"
    assert notice.mentions == (UserID(ANNA),)
    assert dict(notice.params)["counsellor"] == ANNA
    assert dict(notice.params)["conversation"].startswith("C-")
