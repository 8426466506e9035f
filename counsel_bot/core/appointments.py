"""Appointments a counsellor proposes and a youth confirms: the rules, without a clock (pure).

Rules this module keeps:
- A slot is given as local date and time in the office's timezone (the opening hours'), a
  duration (10 to 240 minutes) and a kind: in person, phone or video.
- An appointment belongs to the office of its conversation (its `Venue`): that office's
  opening hours decide, its address and phone are what the youth is told, and the office is
  kept with the appointment so the proposal, the file, the reminders and a cancellation all
  name the same place even if the conversation moves to another office meanwhile.
- Refused, each with its own reason: a date or time that does not exist, a start in the
  past or more than a year ahead, any minute of it outside the office's opening hours (with
  several offices the reason names the office and its hours), and an overlap with another
  proposed or confirmed appointment of the same counsellor, in any office, or of the same
  conversation (booked by a counsellor it had before a transfer).
- The youth answers with one word: "ja"/"yes" confirms; "nein"/"no" or "anderer termin"/
  "other time" declines (the counsellor then proposes another). Anything else is a message.
  Once the counsellor has written to the youth after proposing it, a bare "ja"/"nein" may
  answer their question instead ("Geht es dir besser?"): then only an answer naming the
  appointment ("Termin ja", "ja zum Termin") counts, and the youth is asked once which
  they meant (words of the counsellor that name the appointment, "Passt dir der Termin?",
  ask about it and keep a bare answer the proposal's). After the close nobody asks
  anything else: a bare answer counts again.
  By mail the answer is the first line the youth wrote above the quoted mail (a greeting
  line before it aside): "ja" followed only by courtesy words ("ja, gerne!") confirms, "nein"
  followed by anything declines, "ja, aber …" is a message for the counsellor. Mail programs
  quote and people greet, but a confirmation still has to be plainly a yes.
- Confirmed appointments are reminded twice, to both sides: the day before (the date before
  at the same time on the office's clock) and 15 minutes before; each reminder once. One
  missed (the bot was down) still goes out while the appointment has not ended, the
  15-minute one saying it has begun: for a video appointment it brings the call link,
  without which the youth cannot join at all; the day-before one, late on the
  appointment's own date, says today, not tomorrow. A video appointment the bot was down
  through until its end had no call: both sides are told once (`Reminder.MISSED`); in
  person or by phone the youth had what they needed.
- A conversation with a live appointment is kept (retention holds it) until the appointment
  has ended and may have run over (`OVERRUN`): its room is where the youth answers, is
  reminded and gets the call link.
- Nothing about the youth is asked or kept: no name, no address, no phone number. The
  record holds the conversation id, the counsellor, the time, the kind and its status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from counsel_bot.core.clock import require_aware
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.opening_hours_text import english_when, opening_hours_lines

MIN_MINUTES = 10
MAX_MINUTES = 240
MAX_AHEAD = timedelta(days=365)
DAY_BEFORE = timedelta(hours=24)
SOON = timedelta(minutes=15)
# How long after its end a video appointment the bot was down through is still told as
# missed; an older one (the bot down for longer) is past saying sorry for.
MISSED_REACH = timedelta(days=7)
# How long an appointment may run over: its conversation and its call outlast its end by this.
OVERRUN = timedelta(minutes=30)
# Opening hours are checked at this step across the appointment (and at its last minute).
_STEP = timedelta(minutes=5)

# A phone number youths can dial: digits with the usual separators, at least 3 digits (116 111
# and 112 are real numbers), at most 15 (E.164's limit).
_PHONE = re.compile(r"\+?[0-9][0-9 ()/.-]*")
_ADDRESS_MAX = 200

_YES = frozenset({"ja", "yes", "ok", "okay", "passt", "ja passt", "ja, passt", "jap", "jo"})
_NO = frozenset({"nein", "no", "anderer termin", "other time", "another time",
                 "ein anderer termin", "lieber ein anderer termin", "passt nicht"})


class Kind(StrEnum):
    IN_PERSON = "inperson"
    PHONE = "phone"
    VIDEO = "video"


KIND_WORDS = {"inperson": Kind.IN_PERSON, "in-person": Kind.IN_PERSON, "vorort": Kind.IN_PERSON,
              "vor-ort": Kind.IN_PERSON, "phone": Kind.PHONE, "telefon": Kind.PHONE,
              "video": Kind.VIDEO}


class Status(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Reminder(StrEnum):
    DAY_BEFORE = "day_before"
    SOON = "soon"
    # A video appointment that ended while the bot was down: no call, no link; said once.
    MISSED = "missed"


@dataclass(frozen=True)
class Venue:
    """The office an appointment is with: its hours, where it meets, the number to call."""

    hours: OpeningHours
    address: str = ""  # for in-person appointments; never the youth's, which is never asked
    phone: str = ""  # the youth calls it; their own number is never asked
    office: str = ""  # the office id; "" = the installation's one office
    name: str = ""  # the office's name, said in reasons; "" without offices


@dataclass(frozen=True)
class Appointment:
    id: str
    conversation: ConversationID
    counsellor: UserID
    start: datetime  # UTC
    minutes: int
    kind: Kind
    status: Status = Status.PROPOSED
    reminded: tuple[Reminder, ...] = ()
    office: str = ""  # the office it was booked with ("" = the one office, or before offices)
    # The counsellor wrote to the youth after proposing it: a bare "ja"/"nein" may answer
    # them, not the proposal (`explicit_answer`).
    talked_over: bool = False

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    @property
    def live(self) -> bool:
        """Holds its slot: proposed or confirmed."""
        return self.status in (Status.PROPOSED, Status.CONFIRMED)

    def encode(self) -> bytes:
        return json.dumps({
            "id": self.id, "conversation": self.conversation, "counsellor": self.counsellor,
            "start": self.start.isoformat(), "minutes": self.minutes, "kind": self.kind.value,
            "status": self.status.value, "reminded": [r.value for r in self.reminded],
            "office": self.office, "talked_over": self.talked_over,
        }, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Appointment:
        data = json.loads(raw)
        return cls(str(data["id"]), ConversationID(data["conversation"]),
                   UserID(data["counsellor"]), datetime.fromisoformat(data["start"]),
                   int(data["minutes"]), Kind(data["kind"]), Status(data["status"]),
                   tuple(Reminder(r) for r in data.get("reminded", [])),
                   str(data.get("office", "")), bool(data.get("talked_over", False)))


@dataclass(frozen=True)
class Refusal:
    """Why a slot cannot be proposed: a message key and what fills it (never youth data)."""

    key: str
    params: tuple[tuple[str, str | int], ...] = ()


def check_place(address: str, phone: str, *, address_key: str = "address",
                phone_key: str = "phone") -> None:
    """Where in-person appointments are and the number youths call (an office's, or the
    [appointments] defaults): said to youths and put in calendar files, so one line and a
    dialable number. Raises ValueError naming the key and the fix."""
    if address and (not address.strip() or len(address) > _ADDRESS_MAX
                    or any(ord(c) < 32 for c in address)):
        raise ValueError(f"{address_key} must be one line of at most {_ADDRESS_MAX} "
                         "characters, like \"Münsterplatz 1, 89073 Ulm\" (it is told to youths "
                         "and put into calendar files)")
    digits = sum(c.isdigit() for c in phone)
    if phone and (not _PHONE.fullmatch(phone.strip()) or not 3 <= digits <= 15):
        raise ValueError(f"{phone_key} {phone!r} is not a phone number youths can dial, "
                         "like \"+49 731 123456\" or \"0731 / 12 34 56\" (3 to 15 digits; "
                         "only spaces, + ( ) / . - besides)")


def plan(
    *, appointment_id: str, conversation: ConversationID, counsellor: UserID, day: str,
    at: str, minutes: int, kind: Kind, venue: Venue, now: datetime,
    existing: Iterable[Appointment],
) -> Appointment | Refusal:
    """The proposed appointment with ``venue``'s office, or the reason it cannot be."""
    hours = venue.hours
    start = local_start(day, at, hours)
    change = clock_change(day, at, hours)
    if change is not None:
        return change
    if start is None:
        return Refusal("appointments.bad_date", (("given", f"{day[:10]} {at[:5]}"),))
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        return Refusal("appointments.bad_duration", (("min", MIN_MINUTES), ("max", MAX_MINUTES)))
    now = require_aware(now).astimezone(UTC)
    if start <= now:
        return Refusal("appointments.past", when_params(start, hours))
    if start - now > MAX_AHEAD:
        return Refusal("appointments.too_far", when_params(start, hours))
    end = start + timedelta(minutes=minutes)
    if not within_hours(start, end, hours):
        return closed(start, venue, now)
    for other in existing:
        mine = other.counsellor == counsellor
        if (mine or other.conversation == conversation) and other.live \
                and other.start < end and start < other.end:
            # The youth's own: after a transfer their new counsellor does not see the
            # first's appointments, and the youth cannot be in two places at once.
            return Refusal("appointments.clash" if mine else "appointments.clash_conversation",
                           (("other", other.id), *when_params(other.start, hours),
                            ("minutes", other.minutes)))
    return Appointment(appointment_id, conversation, counsellor, start, minutes, kind,
                       office=venue.office)


def closed(start: datetime, venue: Venue, now: datetime) -> Refusal:
    """Outside the opening hours; with offices, whose hours and what they are, since a
    counsellor in several offices may have the other office's hours in mind."""
    when = when_params(start, venue.hours)
    if not venue.office:
        return Refusal("appointments.closed", when)
    lines = opening_hours_lines(venue.hours, since=now.astimezone(venue.hours.timezone).date())
    return Refusal("appointments.closed_office",
                   (*when, ("office", venue.name or venue.office),
                    ("hours_de", "; ".join(lines["de"])), ("hours_en", "; ".join(lines["en"]))))


def local_start(day: str, at: str, hours: OpeningHours) -> datetime | None:
    """``2026-12-10`` and ``16:00`` in the office's timezone, as UTC; None if no such time."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or not re.fullmatch(r"\d{1,2}:\d{2}", at):
        return None
    try:
        hour, minute = (int(part) for part in at.split(":"))
        local = datetime.combine(date.fromisoformat(day), time(hour, minute),
                                 tzinfo=hours.timezone)
        utc = local.astimezone(UTC)
        back = utc.astimezone(hours.timezone)
    except ValueError:
        return None
    except OverflowError:
        return None  # 0001-01-01 or 9999-12-31 whose UTC time falls outside datetime's years
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # skipped by a clock change (spring forward): that time does not exist
    return utc


def clock_change(day: str, at: str, hours: OpeningHours) -> Refusal | None:
    """A well-formed time the office's clock skips (spring forward) or shows twice (fall
    back) that day: neither can be told to the youth as a plain time, so the reason names
    the change and the hour to avoid. None for any other time, valid or not."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or not re.fullmatch(r"\d{1,2}:\d{2}", at):
        return None
    try:
        hour, minute = (int(part) for part in at.split(":"))
        wall = datetime.combine(date.fromisoformat(day), time(hour, minute))
        first = wall.replace(tzinfo=hours.timezone, fold=0)
        second = wall.replace(tzinfo=hours.timezone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return None
        # The change happens within the offsets' difference of this wall time.
        low = min(first.astimezone(UTC), second.astimezone(UTC)) - timedelta(hours=3)
    except (ValueError, OverflowError):
        return None
    before = low.astimezone(hours.timezone).utcoffset() or timedelta(0)
    moment = low  # zones change their clocks on a quarter hour (UTC)
    while (after := moment.astimezone(hours.timezone).utcoffset() or timedelta(0)) == before:
        moment += timedelta(minutes=15)
    change = moment.replace(tzinfo=None)
    old, new = change + before, change + after
    return Refusal("appointments.clock_change",
                   (("given", f"{day} {at}"), ("day", f"{wall:%d.%m.%Y}"),
                    ("from", f"{old:%H:%M}"), ("to", f"{new:%H:%M}"),
                    ("early", f"{min(old, new):%H:%M}"), ("late", f"{max(old, new):%H:%M}")))


def within_hours(start: datetime, end: datetime, hours: OpeningHours) -> bool:
    moment = start
    while moment < end:
        if not hours.is_open(moment):
            return False
        moment += _STEP
    return hours.is_open(end - timedelta(minutes=1))


def local_text(at: datetime, hours: OpeningHours) -> str:
    return f"{at.astimezone(hours.timezone):%d.%m.%Y %H:%M}"


def local_text_en(at: datetime, hours: OpeningHours) -> str:
    """As an English text writes it: "Thu 10 Dec 2026, 16:00"."""
    return english_when(at.astimezone(hours.timezone))


def when_params(at: datetime, hours: OpeningHours) -> tuple[tuple[str, str], ...]:
    """An appointment's time for the texts: ``when`` in the German ones, ``when_en`` in
    the English ones, each as its language writes a date."""
    return (("when", local_text(at, hours)), ("when_en", local_text_en(at, hours)))


def youth_answer(body: str) -> bool | None:
    """True for yes, False for no / another time, None when it is not an answer."""
    words = " ".join(body.casefold().strip().strip(".!?").split())
    if words in _YES:
        return True
    if words in _NO:
        return False
    # "Ja, gerne!", "nein danke": courtesy around the answer is the answer; any other word
    # makes it a message for the counsellor.
    bare = " ".join(w for w in re.findall(r"\w+", words) if w not in _COURTESY)
    if bare != words and bare:
        return True if bare in _YES else False if bare in _NO else None
    return None


# Reactions apps offer under a message that mean yes or no to it (skin tones, and the
# variation selector some apps add, are no different answer).
_YES_REACTIONS = frozenset({"👍", "👌", "✅", "✔", "🆗", "☑"})
_NO_REACTIONS = frozenset({"👎", "❌", "✖", "🚫"})


def reaction_answer(key: str) -> bool | None:
    """A reaction under the proposal itself: 👍 is a yes, 👎 a no; any other emoji (a ❤️,
    a 😅) says nothing clear, and None leaves it as no answer."""
    bare = "".join(ch for ch in key.strip()
                   if ch != "\ufe0f" and not "\U0001f3fb" <= ch <= "\U0001f3ff")
    return True if bare in _YES_REACTIONS else False if bare in _NO_REACTIONS else None


# Words that name the proposal beside the answer ("Termin ja", "ja zum Termin").
_ABOUT = frozenset({"termin", "appointment", "zum", "den", "dem", "für", "to", "the", "for"})
_NAMED = frozenset({"termin", "appointment"})


def names_appointment(text: str) -> bool:
    """Whether the counsellor's words are about the appointment ("Passt dir der Termin?",
    "Terminvorschlag", "does the appointment work?"): a bare answer after them is still the
    proposal's. Read in memory only, as the message passes."""
    return any(word.startswith(("termin", "appointment"))
               for word in re.findall(r"\w+", text.casefold()))


def explicit_answer(body: str) -> bool | None:
    """A yes or no that names the appointment ("Termin ja", "ja zum Termin", "appointment
    no", "anderer Termin"); None when it does not name it or is no answer. It answers the
    proposal also after the counsellor asked something else, which a bare "nein" may answer."""
    words = re.findall(r"\w+", body.casefold())
    if not _NAMED & set(words):
        return None
    whole = youth_answer(body)
    if whole is not None:
        return whole
    rest = " ".join(word for word in words if word not in _ABOUT)
    return youth_answer(rest) if rest else None


_QUOTE_HEADER = re.compile(
    r"^(?:(?:am|on)\b.*(?:schrieb|wrote)|-{2,}\s*(?:original|ursprüngliche|weitergeleitete)"
    r"|(?:von|from|gesendet|sent):\s|\[>)", re.IGNORECASE)
_GREETING = re.compile(r"^(?:hallo|hello|hi|hey|moin|servus|guten (?:tag|morgen|abend)|"
                       r"liebe[rs]?\b.*|dear\b.*)[\s\w]{0,30}[,!.]?$", re.IGNORECASE)
_CLAUSE = re.compile(r"[,.!;]|\s-\s")
# What a sign-off under a bare answer may hold besides these words: a name (`bare_mail_answer`).
_CLOSING = frozenset({"viele", "liebe", "lieben", "beste", "besten", "grüße", "gruß", "grüsse",
                      "gruss", "mfg", "bis", "dann", "bald", "tschüss", "ciao", "bye", "best",
                      "regards", "cheers", "kind", "see", "soon"})
_NAME_WORDS = 2
_COURTESY = frozenset({"gerne", "gern", "danke", "bitte", "super", "klar", "thanks", "thank",
                       "you", "please", "sure", "great", "gladly", "lg", "vg"})


def mail_answer(text: str) -> bool | None:
    """A youth's yes or no in a mail reply (`youth_answer` on the first written line)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(">") or line == "--" or _QUOTE_HEADER.match(line):
            return None  # the quoted mail or a signature begins: no answer above it
        if not line or (_GREETING.fullmatch(line) and youth_answer(line) is None):
            continue
        answer = youth_answer(line)
        if answer is not None:
            return answer
        split = _CLAUSE.search(line)
        if split is None:
            return None
        head, rest = line[:split.start()], line[split.end():]
        answer = youth_answer(head)
        if answer is False:
            return False  # "nein, da kann ich nicht": a no with its reason is still a no
        if all(word in _COURTESY for word in re.findall(r"[^\W\d_]+", rest.casefold())):
            return answer  # "ja, gerne!"; "ja, aber …" is left to the counsellor
        return None
    return None


def bare_mail_answer(text: str) -> bool:
    """A mail that is a yes or no (`mail_answer`) and says nothing more: courtesy words
    beside it ("ja, gerne!") and a sign-off below it ("Viele Grüße, Kim") at most. After the
    close nobody reads a mail that only answers, so one with more to say, even a reason for
    a no, must reach a person: "nein, mir geht's gerade nicht gut" is not just a no."""
    if mail_answer(text) is None:
        return False
    first, *rest = _written(text)
    split = _CLAUSE.search(first)
    beside = first[split.end():] if split is not None and youth_answer(first) is None else ""
    if any(word not in _COURTESY | _CLOSING for word in _words(beside)):
        return False
    named = [word for line in rest for word in _words(line) if word not in _COURTESY | _CLOSING]
    return len(named) <= _NAME_WORDS


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.casefold())


def _written(text: str) -> list[str]:
    """The lines written above the quoted mail or the signature, as `mail_answer` reads
    them: without empty lines and the greetings above the answer. Below it a line that
    begins like one ("Lieber wäre mir, …", "Dear me, …") is words like any."""
    written: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(">") or line == "--" or _QUOTE_HEADER.match(line):
            break
        if line and (written or not (_GREETING.fullmatch(line)
                                     and youth_answer(line) is None)):
            written.append(line)
    return written


def day_before(appointment: Appointment, zone: tzinfo | None = None) -> datetime:
    """When the day-before reminder is due: the date before at the same time on the
    office's clock (``zone``), which across a clock change is 23 or 25 hours ahead, not
    24 (then "morgen" would name the wrong date); without a zone 24 hours ahead."""
    if zone is None:
        return appointment.start - DAY_BEFORE
    local = appointment.start.astimezone(zone)
    before = local.replace(tzinfo=None) - timedelta(days=1)
    return before.replace(tzinfo=zone).astimezone(UTC)


def due_reminders(appointments: Iterable[Appointment], now: datetime,
                  zone_of: Callable[[Appointment], tzinfo] | None = None,
                  ) -> list[tuple[Appointment, Reminder]]:
    """Reminders to send now, each once; the later one supersedes a missed earlier one, and
    the 15-minute one is still due after the start until the end (see `begun`); after it,
    see `missed`."""
    due: list[tuple[Appointment, Reminder]] = []
    for appointment in appointments:
        if appointment.status is not Status.CONFIRMED or now >= appointment.end:
            continue
        if now >= appointment.start - SOON:
            if Reminder.SOON not in appointment.reminded:
                due.append((appointment, Reminder.SOON))
        elif now >= day_before(appointment, zone_of(appointment) if zone_of else None) \
                and Reminder.DAY_BEFORE not in appointment.reminded:
            due.append((appointment, Reminder.DAY_BEFORE))
    return due


def missed(appointments: Iterable[Appointment], now: datetime) -> list[Appointment]:
    """Video appointments over before their 15-minute reminder went out (the bot was down):
    their call never opened and the youth waited for a link that never came. Each once
    (`Reminder.MISSED`), up to `MISSED_REACH` after the end."""
    return [a for a in appointments
            if a.status is Status.CONFIRMED and a.kind is Kind.VIDEO
            and a.end <= now < a.end + MISSED_REACH
            and not {Reminder.SOON, Reminder.MISSED} & set(a.reminded)]


def reminder_words(appointment: Appointment, reminder: Reminder, now: datetime,
                   hours: OpeningHours) -> str:
    """Which text a reminder sent ``now`` takes: the 15-minute one "soon", or "begun" once
    the appointment has begun; the day-before one "day_before" ("tomorrow"), or "today"
    when it goes out late on the appointment's own date in the office's timezone (the bot
    was down): "morgen" then sends the youth a day too late."""
    if reminder is Reminder.SOON:
        return "begun" if begun(appointment, now) else Reminder.SOON.value
    zone = hours.timezone
    if now.astimezone(zone).date() >= appointment.start.astimezone(zone).date():
        return "today"
    return Reminder.DAY_BEFORE.value


def begun(appointment: Appointment, now: datetime) -> bool:
    """A reminder sent now comes late: the appointment has begun (its texts say so)."""
    return now >= appointment.start


def held(appointments: Iterable[Appointment], now: datetime) -> frozenset[ConversationID]:
    """Conversations retention must keep: a live appointment of theirs is not over yet."""
    return frozenset(a.conversation for a in appointments
                     if a.live and a.end + OVERRUN > now)


def reminded(appointment: Appointment, reminder: Reminder) -> Appointment:
    return replace(appointment, reminded=(*appointment.reminded, reminder))


def confirmed(appointment: Appointment, now: datetime, zone: tzinfo | None = None
              ) -> Appointment:
    """Confirmed by the youth; within a day of it (`day_before`), the confirmation is the
    day-before note."""
    done = (Reminder.DAY_BEFORE,) if now >= day_before(appointment, zone) else ()
    return replace(appointment, status=Status.CONFIRMED, reminded=done)
