"""How a new chat conversation starts: greeting, staff notice, and out of hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from counsel_bot.config import OpeningHoursSettings, Settings, StaffSettings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor, Policy
from counsel_bot.conversation.welcome import welcome
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, SayToYouth, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.messages import CATALOGUE, Language, text, youth_words
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing import QueuePositionChanged
from counsel_bot.core.routing.model import ConversationState
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.parts import AT, CASE, effects
from tests.store.conftest import AeadSealer

EMERGENCY: dict[Language, str] = {"de": "116 111", "en": "116 111 (en)"}
# AT is a Monday, 16:00 in Berlin.
OPEN = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {"mon": ["14:00-20:00"]}})
CLOSED = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {"tue": ["14:00-20:00"]}})


ANNA, STAFF_ROOM = UserID("@anna:x"), RoomID("!staff:x")
# Monday and Tuesday, 14-20 in Berlin.
HOURS = OpeningHoursSettings(weekly={"mon": ("14:00-20:00",), "tue": ("14:00-20:00",)})


async def anna_on_duty(at: datetime) -> tuple[Conductor, Policy]:
    """A conductor whose one counsellor, Anna, goes on duty at ``at``."""
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,)), opening_hours=HOURS))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, at)
    await c.sync_roster(at)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", at)
    return c, policy


async def nobody_on_duty(at: datetime) -> tuple[Conductor, Policy]:
    """A conductor with no staff, open Monday and Tuesday 14-20 in Berlin."""
    policy = policy_from(Settings(opening_hours=HOURS))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, at)
    return c, policy


async def told_youth(c: Conductor, conversation: ConversationID) -> list[SayToYouth]:
    """What the outbox holds to say to the youth of ``conversation``."""
    return [e for e in (decode_effect(o.payload) for o in await c.store.pending_outbox())
            if isinstance(e, SayToYouth) and e.conversation == conversation]


def test_in_hours_and_in_the_default_language_only_staff_hear() -> None:
    step = Change(AT, None)
    welcome(step, CASE, "de", default_language="de", hours=OPEN, emergency=EMERGENCY,
            mail=False)
    assert effects(step) == [SayToStaff("staff_new_conversation",
                                        (("conversation", CASE), ("language", "de")))]


def test_another_language_is_greeted_again_and_out_of_hours_told_when_and_where() -> None:
    step = Change(AT, None)
    welcome(step, CASE, "en", default_language="de", hours=CLOSED, emergency=EMERGENCY,
            mail=False)
    greeting, _, notice = effects(step)
    assert greeting == SayToYouth(CASE, "greeting")
    assert notice == SayToYouth(CASE, "out_of_hours", (("next_opening", "Tue 24 Nov, 14:00"),
                                                       ("emergency", "116 111 (en)")))


async def test_a_youth_handed_back_after_closing_hears_when_and_where_as_after_hours() -> None:
    """The last counsellor signs off after closing, holding a youth: "someone else will join
    soon" (the hand-back's text) was all the youth heard, a promise nobody keeps tonight;
    one who writes after closing is told when the chat opens again and where help is
    meanwhile, and so is this youth now."""
    room = RoomID("!room:x")
    evening = datetime(2026, 11, 23, 18, 50, tzinfo=UTC)  # Monday, 19:50 in Berlin
    c, policy = await anna_on_duty(evening)
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                        "hallo, mir geht es nicht gut", evening)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert c.router.conversation(record.conversation).assigned_to == ANNA  # type: ignore[union-attr]

    late = datetime(2026, 11, 23, 19, 10, tzinfo=UTC)  # 20:10 in Berlin: closed
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", late)
    told = await told_youth(c, record.conversation)
    assert SayToYouth(record.conversation, "out_of_hours",
                      (("next_opening", "24.11. 14:00"),
                       ("emergency", policy.emergency["de"]))) in told


async def test_a_youth_in_the_queue_when_the_last_counsellor_signs_off_after_closing() -> None:
    """A youth who wrote before closing and still waits when the last counsellor signs off
    after it heard nothing of when the chat opens again or where help is meanwhile (at
    most "nobody is on duty right now"), as one who writes after closing does."""
    evening = datetime(2026, 11, 23, 18, 50, tzinfo=UTC)  # Monday, 19:50 in Berlin
    c, policy = await anna_on_duty(evening)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$cap"), "!capacity 1", evening)
    for n in (1, 2):
        await c.youth_wrote(RoomID(f"!room{n}:x"), UserID(f"@youth{n}:x"), None,
                            EventID(f"$y{n}"), "hallo, ist jemand da?", evening)
    second = await c.store.conversation_by_room(RoomID("!room2:x"))
    assert second is not None
    assert c.router.conversation(second.conversation).state is ConversationState.WAITING  # type: ignore[union-attr]

    late = datetime(2026, 11, 23, 19, 10, tzinfo=UTC)  # 20:10 in Berlin: closed
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", late)
    told = await told_youth(c, second.conversation)
    assert SayToYouth(second.conversation, "out_of_hours",
                      (("next_opening", "24.11. 14:00"),
                       ("emergency", policy.emergency["de"]))) in told


async def test_a_youth_handed_back_in_opening_hours_with_nobody_left_hears_where_help_is() -> None:
    """The last counsellor signs off in opening hours (off sick, an account closed), holding
    a youth: "someone else will join soon" and "nobody is on duty right now" was all the
    youth heard, a wait with no end in sight; one who writes at that moment is told where
    help is meanwhile (`welcome`), and so is this youth, who may have been in the middle of
    telling the worst."""
    room = RoomID("!room:x")
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin
    c, policy = await anna_on_duty(afternoon)
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                        "hallo, mir geht es nicht gut", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert c.router.conversation(record.conversation).assigned_to == ANNA  # type: ignore[union-attr]

    later = datetime(2026, 11, 23, 14, 20, tzinfo=UTC)  # 15:20 in Berlin: open
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", later)
    told = await told_youth(c, record.conversation)
    assert SayToYouth(record.conversation, "nobody_on_duty",
                      (("emergency", policy.emergency["de"]),)) in told


def test_the_greeting_promises_no_counsellor_right_away() -> None:
    """The greeting goes out before the bot knows whether anybody is on duty: "kommt
    gleich" at night, or with the queue full, is a promise a youth in distress holds on to;
    their first message brings the queue place, the opening hours or the numbers."""
    assert "gleich" not in CATALOGUE["greeting"]["de"]
    assert "soon" not in CATALOGUE["greeting"]["en"].replace("as soon as", "")


def test_no_text_promises_a_counsellor_right_away() -> None:
    """A hand-back or a move to another office may leave nobody free to take the youth:
    "gleich kommt jemand anderes" was a promise nobody kept that night."""
    for key in ("counsellor_left", "office.transferred_youth"):
        assert "gleich" not in CATALOGUE[key]["de"], key
        assert "soon." not in CATALOGUE[key]["en"], key


async def test_a_youth_waiting_while_the_counsellor_on_duty_is_full_hears_no_untruth() -> None:
    """A counsellor on duty at capacity 0 (a break, the end of a shift) leaves no free slot:
    the router has no estimate, and the youth was told "nobody is on duty right now", an
    untruth that sends one in distress away from the counsellor there."""
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin: open
    c, _ = await anna_on_duty(afternoon)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$cap"), "!capacity 0", afternoon)
    room = RoomID("!room:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"), "hallo", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    [notice] = [e for e in (decode_effect(o.payload) for o in await c.store.pending_outbox())
                if isinstance(e, QueuePositionChanged)]
    assert notice.eta is None
    assert c.router.counsellor(ANNA).on_duty  # type: ignore[union-attr]
    assert "niemand im Dienst" not in text("eta_unknown", "de")
    assert "Nobody is on duty" not in text("eta_unknown", "en")


async def _no_switch(step: Change, conversation: ConversationID, address: str) -> None:
    raise AssertionError("not called: the youth only reads the out-of-hours notice")


async def test_out_of_hours_mail_is_offered_only_where_there_is_mail() -> None:
    """Out of hours the youth was told "you can also write to us by mail (write "mail")"
    whether or not the office has mail counselling ([mail] enabled = false is the default):
    a youth alone after closing wrote "mail" and read "counselling by mail is not available
    here". Where there is mail the offer stays."""
    sunday = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)  # closed (HOURS: Monday, Tuesday)
    for mail_on in (False, True):
        c, _ = await anna_on_duty(sunday)
        # Off duty: a youth a counsellor takes after closing hears no out-of-hours notice.
        await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", sunday)
        if mail_on:
            c.mail_switch = _no_switch
        room = RoomID("!room:x")
        await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                            "hallo, ist jemand da?", sunday)
        record = await c.store.conversation_by_room(room)
        assert record is not None
        [notice] = [e for e in await told_youth(c, record.conversation)
                    if e.key.startswith("out_of_hours")]
        for language in ("de", "en"):
            said = text(notice.key, language, **dict(notice.params))
            assert ("mail" in said.lower()) is mail_on, said
            assert "116 111" in said


async def test_a_first_message_hilfe_gets_the_help_the_greeting_promised() -> None:
    """The greeting says: write "hilfe" to see what you can do here. A youth who did so at
    once got no answer (a first message is never a command), and "Hilfe!" may be a cry for
    help: "hilfe" later in the chat gets the help with the numbers, the first one nothing."""
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin: open
    c, policy = await anna_on_duty(afternoon)
    for room, word, language in ((RoomID("!r1:x"), "Hilfe!", "de"), (RoomID("!r2:x"), "help",
                                                                      "en")):
        await c.youth_wrote(room, UserID(f"@y{room[2]}:x"), None, EventID(f"${room[2]}"), word,
                            afternoon)
        record = await c.store.conversation_by_room(room)
        assert record is not None
        assert record.language == language
        words = youth_words(language, video=False, mail=False)
        assert SayToYouth(record.conversation, "youth_help",
                          (("emergency", policy.emergency[language]), ("words", words))) \
            in await told_youth(c, record.conversation)


@pytest.mark.parametrize("first", [None, "hey", ""])
async def test_the_language_is_the_one_of_the_first_words_that_tell_it(
    first: str | None,
) -> None:
    """The language was guessed once, from the first message: one the bot could not decrypt
    yet (None: the conversation opens without words), a picture ("") or a "hey" left it at
    the installation's, and an English-writing youth read German, numbers too, to the end
    (and was routed as a German speaker). The first words that tell it decide it, and the
    youth is greeted again in them, as one whose first message told it is."""
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin: open
    c, _ = await nobody_on_duty(afternoon)
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    if first is None:
        await c.youth_reached_out(room, youth, None, afternoon)
    else:
        await c.youth_wrote(room, youth, None, EventID("$1"), first, afternoon,
                            attachment=first == "")
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "de"
    await c.youth_wrote(room, youth, None, EventID("$2"),
                        "sorry, I don't speak German. Can someone help me?", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "en"
    assert SayToYouth(record.conversation, "greeting") in await told_youth(c,
                                                                           record.conversation)
    # Told once: German words later do not switch it back.
    await c.youth_wrote(room, youth, None, EventID("$3"), "ich bin auch hier", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "en"


async def test_a_language_still_open_is_decided_after_a_restart() -> None:
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    store = MemoryStore(AeadSealer())
    policy = policy_from(Settings(opening_hours=HOURS))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    first = await Conductor.open(store, detector, policy, afternoon)
    await first.youth_wrote(room, youth, None, EventID("$1"), "hey", afternoon)
    again = await Conductor.open(store, detector, policy, afternoon)
    await again.youth_wrote(room, youth, None, EventID("$2"), "can anyone help me please",
                            afternoon)
    record = await store.conversation_by_room(room)
    assert record is not None
    assert record.language == "en"


async def test_a_youth_taken_after_closing_is_not_told_the_chat_is_not_staffed() -> None:
    """A counsellor still on duty after closing takes a youth who writes then: the youth
    read "the chat is not staffed right now, you stay in the queue" while she joined, an
    untruth that sends one in distress away (to the numbers, to mail) from the counsellor
    there. Told when the chat opens only once nobody on duty is there to take them
    (`handed_back`)."""
    late = datetime(2026, 11, 23, 19, 10, tzinfo=UTC)  # Monday, 20:10 in Berlin: closed
    c, _ = await anna_on_duty(late)
    room = RoomID("!room:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                        "hallo, mir geht es nicht gut", late)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert c.router.conversation(record.conversation).assigned_to == ANNA  # type: ignore[union-attr]
    assert "out_of_hours" not in [e.key for e in await told_youth(c, record.conversation)]


async def test_a_youth_waiting_at_closing_with_nobody_on_duty_hears_when_it_opens() -> None:
    """A youth who wrote in opening hours with nobody on duty read "nobody is free right
    now; as soon as someone is, it continues" and the numbers. The chat closed, nobody
    came, and nothing more was said: the youth waited through the night on that promise,
    while one who writes after closing, or is handed back then, hears when the chat opens
    again, the mail offer and the numbers."""
    evening = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # Monday, 19:30 in Berlin
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,)), opening_hours=HOURS))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy,
                             evening)
    await c.sync_roster(evening)
    room = RoomID("!room:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$y1"),
                        "hallo, ist jemand da?", evening)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert "nobody_on_duty" in [e.key for e in await told_youth(c, record.conversation)]
    await c.tick(datetime(2026, 11, 23, 18, 59, tzinfo=UTC))  # 19:59: still open
    assert "out_of_hours" not in [e.key for e in await told_youth(c, record.conversation)]
    await c.tick(datetime(2026, 11, 23, 19, 1, tzinfo=UTC))  # 20:01: closed
    assert SayToYouth(record.conversation, "out_of_hours",
                      (("next_opening", "24.11. 14:00"),
                       ("emergency", policy.emergency["de"]))) \
        in await told_youth(c, record.conversation)


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 23, 22, 0, tzinfo=UTC),  # Monday, 23:00 in Berlin: closed
    datetime(2026, 11, 23, 14, 0, tzinfo=UTC),  # Monday, 15:00 in Berlin: open, nobody on duty
])
async def test_a_language_told_later_tells_the_wait_and_the_numbers_in_it(at: datetime) -> None:
    """A youth who opened with "hey" read, in German, that the chat is closed (or that
    nobody is on duty) and where help is; their next words told English, and all they read
    in it was the greeting: "a counsellor will join as soon as one is free", at night,
    and no numbers in a language they read. Told again as one whose first words told it."""
    c, policy = await nobody_on_duty(at)
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    await c.youth_wrote(room, youth, None, EventID("$1"), "hey", at)
    await c.youth_wrote(room, youth, None, EventID("$2"),
                        "sorry, I don't speak German. Can someone help me?", at)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    told = await told_youth(c, record.conversation)
    assert SayToYouth(record.conversation, "greeting") in told
    numbers = [e for e in told if ("emergency", policy.emergency["en"]) in e.params]
    assert [e.key for e in numbers] == ["out_of_hours" if at.hour == 22 else "nobody_on_duty"]


async def test_a_youth_who_names_a_language_is_answered_in_it_from_then_on() -> None:
    """The language was decided once, by the first words that told one: a youth who
    greeted with "Hallo" and then wrote English, or whose first words were "ok thanks",
    read the other language to the end (numbers and safety text too), and nothing they
    wrote could change it. Naming it does, at any time; the youth is told so in it, and a
    youth still waiting hears the wait and the numbers again in it."""
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin: open
    c, policy = await nobody_on_duty(afternoon)
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    await c.youth_wrote(room, youth, None, EventID("$1"), "Hallo", afternoon)
    await c.youth_wrote(room, youth, None, EventID("$2"), "English please", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "en"
    told = await told_youth(c, record.conversation)
    assert SayToYouth(record.conversation, "language_changed") in told
    numbers = [e for e in told if ("emergency", policy.emergency["en"]) in e.params]
    assert [e.key for e in numbers] == ["nobody_on_duty"]
    # And back, however it was told before.
    await c.youth_wrote(room, youth, None, EventID("$3"), "deutsch", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "de"


async def test_a_first_message_naming_a_language_decides_it() -> None:
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    c, _ = await anna_on_duty(afternoon)
    room = RoomID("!r:x")
    await c.youth_wrote(room, UserID("@sunflower:x"), None, EventID("$1"), "english",
                        afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "en"


def test_the_youths_help_names_the_other_language() -> None:
    assert "english" in youth_words("de", video=False, mail=False)
    assert "deutsch" in youth_words("en", video=False, mail=False)


@pytest.mark.parametrize(("words", "language", "first"), [
    ("english please, i want to die", "en", "Hallo"),
    ("i can't anymore. english pls", "en", "Hallo"),
    ("auf deutsch bitte, ich will nicht mehr leben", "de", "hello, anyone there?"),
])
async def test_a_language_asked_for_beside_crisis_words_is_the_one_the_numbers_come_in(
    words: str, language: Language, first: str,
) -> None:
    """A language is named only alone as a message: "english please, i want to die" was
    words, so the youth who asked for English in the same breath as their crisis was given
    the safety text and the numbers in German, and went on reading German. The request
    counts beside other words when it says please (a language named in passing, "Englisch,
    da hab ich ne 6", does not); the words are still words, judged for a crisis."""
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin: open
    c, policy = await anna_on_duty(afternoon)
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    await c.youth_wrote(room, youth, None, EventID("$1"), first, afternoon)
    await c.youth_wrote(room, youth, None, EventID("$2"), words, afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == language
    told = await told_youth(c, record.conversation)
    assert SayToYouth(record.conversation, "language_changed") in told
    [safety] = [e for e in told if e.key in ("safety_info", "safety_offer")]
    assert safety.params == (("emergency", policy.emergency[language]),)


@pytest.mark.parametrize("words", ["Englisch, da hab ich ne 6", "in englisch, mathe und bio "
                                   "bin ich schlecht", "english? no idea, ich kann das nicht"])
async def test_a_language_named_in_passing_changes_nothing(words: str) -> None:
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    c, _ = await anna_on_duty(afternoon)
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    await c.youth_wrote(room, youth, None, EventID("$1"), "Hallo", afternoon)
    await c.youth_wrote(room, youth, None, EventID("$2"), words, afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    assert record.language == "de"
    assert "language_changed" not in [e.key for e in await told_youth(c, record.conversation)]


@pytest.mark.parametrize("counsellor", [True, False])
async def test_a_youth_in_crisis_who_switches_language_reads_the_numbers_in_it(
    counsellor: bool,
) -> None:
    """"Hallo" decided German; "i want to kill myself" raised a flag, and the safety text
    with the numbers came in German, which this youth does not read. Their "english" was
    confirmed in English and nothing else: the numbers never came in a language they read
    (the safety text is given once per conversation), with a counsellor there or not."""
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday, 15:00 in Berlin: open
    c, policy = await (anna_on_duty if counsellor else nobody_on_duty)(afternoon)
    room, youth = RoomID("!r:x"), UserID("@sunflower:x")
    await c.youth_wrote(room, youth, None, EventID("$1"), "Hallo", afternoon)
    await c.youth_wrote(room, youth, None, EventID("$2"), "i want to kill myself", afternoon)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    told = await told_youth(c, record.conversation)
    assert [e.params for e in told if e.key.startswith("safety_")] \
        == [(("emergency", policy.emergency["de"]),)]
    await c.youth_wrote(room, youth, None, EventID("$3"), "english", afternoon)
    after = (await told_youth(c, record.conversation))[len(told):]
    assert any(("emergency", policy.emergency["en"]) in e.params for e in after), after


def test_the_greeting_names_the_word_that_switches_to_the_other_language() -> None:
    """The switch ("english", "deutsch") was told only in the help: the greeting in German
    said "(You can write in English, too.)", and an English-writing youth whose "Hallo"
    had decided German wrote English and read German to the end, numbers and safety text
    too; a German youth greeted in English had no German line at all."""
    assert '"english"' in text("greeting", "de")
    assert "„deutsch“" in text("greeting", "en")


async def test_a_week_without_opening_hours_tells_no_opening_time() -> None:
    """The configuration accepts a week without hours when mail is off ("a closed week is
    the office's choice", tests/test_config.py), and the youth is to be told when the chat
    opens. It never does: the youth was told "Wieder da: -." / "Back: -.", a dash where
    a time should be. Now the notice says the chat is not staffed and where help is, and
    names no time."""
    closed = {day: () for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    policy = policy_from(Settings(opening_hours=OpeningHoursSettings(weekly=closed)))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, AT)
    for mail_on in (False, True):
        if mail_on:
            c.mail_switch = _no_switch
        room = RoomID(f"!room-{mail_on}:x")
        await c.youth_wrote(room, UserID(f"@sunflower-{mail_on}:x"), None,
                            EventID(f"$y-{mail_on}"), "hallo, ist jemand da?", AT)
        record = await c.store.conversation_by_room(room)
        assert record is not None
        [notice] = [e for e in await told_youth(c, record.conversation)
                    if e.key.startswith("out_of_hours")]
        for language in ("de", "en"):
            said = text(notice.key, language, **dict(notice.params))
            assert "-." not in said, said
            assert ": -" not in said, said
            assert ("mail" in said.lower()) is mail_on, said
            assert "116 111" in said
