"""Which counselling office a youth reaches: topics, typed numbers and postcodes. Pure.

Rules this module keeps:
- a youth is never asked more than one question: `match_office` with ``asked=True`` always
  answers with an office (the fallback when nothing fits), so there is no dead end;
- a typed number picks the numbered topic the youth was shown (`topic_menu`); a topic word
  (German or English) and an optional five-digit postcode narrow the offices down;
- an office with postcodes serves only those areas; one without serves everywhere, and an
  office that names the youth's area goes before one that serves everywhere;
- of several that fit, those counselling in the youth's language go first (one that does
  not is still better than none);
- the postcode is read, never kept: only the office id leaves this module.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from counsel_bot.core.appointments import Venue
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.core.timers import TimerSettings


class OfficeError(ValueError):
    """An office definition cannot be used; the message names the office and the fix."""


# The topics a youth can pick, in the order they are numbered. Keywords are lower case
# stems matched at the start of a word, so "Eltern" finds "eltern", "elternhaus".
TOPICS: tuple[str, ...] = (
    "family", "school", "addiction", "violence", "sexuality", "lgbtq", "migration", "general",
)
TOPIC_NAMES: dict[str, dict[str, str]] = {
    "de": {"family": "Familie und Eltern", "school": "Schule und Ausbildung",
           "addiction": "Sucht (Alkohol, Drogen, Zocken)", "violence": "Gewalt",
           "sexuality": "Liebe und Sexualität", "lgbtq": "LGBTQ+",
           "migration": "Flucht und Migration", "general": "Etwas anderes"},
    "en": {"family": "family and parents", "school": "school and training",
           "addiction": "addiction (alcohol, drugs, gaming)", "violence": "violence",
           "sexuality": "love and sexuality", "lgbtq": "LGBTQ+",
           "migration": "refuge and migration", "general": "something else"},
}
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "family": ("famil", "eltern", "mutter", "mama", "vater", "papa", "geschwister", "bruder",
               "schwester", "parent", "mother", "mum", "mom", "father", "dad", "sibling",
               "zuhause", "stiefvater", "stiefmutter", "scheidung", "divorce"),
    "school": ("schul", "lehrer", "klasse", "prüfung", "pruefung", "noten", "ausbildung",
               "mobbing", "school", "teacher", "exam", "bully", "bullied", "grades"),
    "addiction": ("sucht", "alkohol", "drogen", "kiff", "gras", "zocken", "spielsucht",
                  "addict", "alcohol", "drug", "weed", "gambl", "gaming"),
    "violence": ("gewalt", "schläg", "schlaeg", "geschlagen", "missbrauch", "violen",
                 "beat", "abuse", "hit me", "hits me"),
    "sexuality": ("sex", "verliebt", "liebe", "beziehung", "schwanger", "verhütung",
                  "freundin",
                  "love", "relationship", "boyfriend", "girlfriend", "pregnan"),
    "lgbtq": ("lgbt", "queer", "schwul", "lesb", "bi", "trans", "nonbinary", "non-binary",
              "coming out", "coming-out", "gay"),
    "migration": ("flucht", "geflüchtet", "asyl", "aufenthalt", "migration", "refugee",
                  "asylum", "visa", "deport", "abschiebung"),
}
# Words that begin like a topic's stem but mean something else: "Schulden" (debts) and
# "schuldig" (guilty) are no school matter, "lieber" (rather) and "liebes" (a greeting,
# "Liebes Team") no love matter. One wrong topic sends a youth straight to an office that
# does not counsel what they wrote about.
_NOT_TOPIC: dict[str, re.Pattern[str]] = {
    "school": re.compile(r"schuld(?!irekt)\w*"),  # not "Schuldirektor"
    "sexuality": re.compile(r"lieber|liebes"),  # "Liebeskummer" is one
}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
# A menu choice is one number of one or two digits, alone but for punctuation, these words
# and the postcode the question asks for too: "2", "2️⃣", "Nr. 2", "die 2 bitte", "3, PLZ
# 89073". A number among other words ("ich bin 15") is none.
_MENU_WORDS = frozenset({"nummer", "nr", "number", "num", "die", "the", "bitte", "please",
                         "und", "and", "plz", "postleitzahl", "postcode", "ich", "nehme",
                         "wähle", "i", "pick", "choose", "take", "danke", "thanks", "ok",
                         "okay"})
_TOKEN = re.compile(r"[^\W_]+")
# Variation selector 16 (emoji presentation) and the combining keycap: "2️⃣" is "2".
_MARKS = {0xFE0F: None, 0x20E3: None}
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_AREA = re.compile(r"(\d{1,5})(?:-(\d{5}))?")


@dataclass(frozen=True)
class PostcodeArea:
    low: int
    high: int

    def contains(self, postcode: str) -> bool:
        return self.low <= int(postcode) <= self.high


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    topics: tuple[str, ...] = ()
    areas: tuple[PostcodeArea, ...] = ()
    languages: tuple[str, ...] = ("de",)

    def serves_topic(self, topic: str) -> bool:
        return topic in self.topics or (topic == "general" and not self.topics)

    def serves_postcode(self, postcode: str) -> bool:
        return not self.areas or any(a.contains(postcode) for a in self.areas)

    def names_postcode(self, postcode: str) -> bool:
        return any(a.contains(postcode) for a in self.areas)


def office_from(
    office_id: str, name: str, topics: Sequence[str], postcodes: Sequence[str],
    languages: Sequence[str] = ("de",),
) -> Office:
    if not _ID.fullmatch(office_id):
        raise OfficeError(f"office id {office_id!r}: use 1-32 lower-case letters, digits, "
                          "- or _ (it appears in links, commands and metrics)")
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        raise OfficeError(f"office {office_id!r}: unknown topic {unknown[0]!r}; the topics "
                          "are " + ", ".join(TOPICS))
    return Office(office_id, name or office_id, tuple(topics),
                  tuple(_area(office_id, p) for p in postcodes), tuple(languages))


def _area(office_id: str, text: str) -> PostcodeArea:
    found = _AREA.fullmatch(text.strip())
    if found is None or (found.group(2) and len(found.group(1)) != 5):
        raise OfficeError(f"office {office_id!r}: postcode area {text!r} is neither a prefix "
                          "like \"89\" nor a range like \"89000-89999\"")
    low_text, high_text = found.group(1), found.group(2)
    if high_text:
        low, high = int(low_text), int(high_text)
    else:
        width = 5 - len(low_text)
        low, high = int(low_text) * 10**width, (int(low_text) + 1) * 10**width - 1
    if low > high:
        raise OfficeError(f"office {office_id!r}: postcode range {text!r} runs backwards")
    return PostcodeArea(low, high)


# --- what the youth typed ------------------------------------------------------------------


def offered_topics(offices: Sequence[Office]) -> tuple[str, ...]:
    """The topics shown as numbered choices: those some office serves, "general" last."""
    served = [t for t in TOPICS if t != "general" and any(t in o.topics for o in offices)]
    return (*served, "general")


def topic_menu(offices: Sequence[Office], language: str) -> str:
    names = TOPIC_NAMES.get(language, TOPIC_NAMES["de"])
    return "\n".join(f"{i}. {names[t]}" for i, t in enumerate(offered_topics(offices), 1))


def topics_in(text: str, offices: Sequence[Office]) -> tuple[str, ...]:
    """Topics the text names: a typed number from the menu, or topic words."""
    number = _menu_number(text)
    if number is not None:
        offered = offered_topics(offices)
        index = number - 1
        return (offered[index],) if 0 <= index < len(offered) else ()
    words = [w.lower() for w in _WORD.findall(text)]
    found = []
    for topic, stems in _KEYWORDS.items():
        unlike = _NOT_TOPIC.get(topic)
        named = [w for w in words if unlike is None or not unlike.fullmatch(w)]
        if any(w.startswith(stem) if " " not in stem else stem in text.lower()
               for stem in stems for w in named):
            found.append(topic)
    # "bi" and "sex" are prefixes of too much ("bitte", "sexy" is fine): keep them whole.
    if "lgbtq" in found and not any(_lgbtq_word(w) for w in words):
        found.remove("lgbtq")
    return tuple(found)


def _menu_number(text: str) -> int | None:
    """The number of a menu entry the text picks, typed as a youth types it (any script's
    digits, a full-width or keycap one), or None."""
    # NFKC: full-width digits as ASCII; the keycap's marks dropped.
    tokens = _TOKEN.findall(unicodedata.normalize("NFKC", text).translate(_MARKS))
    numbers = [t for t in tokens if t.isdecimal() and len(t) <= 2]
    postcodes = [t for t in tokens if t.isdecimal() and len(t) == 5]
    if len(numbers) != 1 or len(postcodes) > 1 or any(
            t.casefold() not in _MENU_WORDS for t in tokens
            if t not in numbers and t not in postcodes):
        return None
    return int(numbers[0])


def _lgbtq_word(word: str) -> bool:
    return word in ("bi", "gay", "queer", "trans", "schwul") or word.startswith(
        ("lgbt", "lesb", "transgender", "nonbinary", "non-binary", "queer", "coming"))


def postcode_in(text: str) -> str | None:
    found = _POSTCODE.search(text)
    return None if found is None else found.group(1)


# --- the decision --------------------------------------------------------------------------


class MatchKind(StrEnum):
    MATCHED = "matched"  # one office fits what the youth said
    ASK = "ask"  # nothing or several fit: ask once, with the numbered topics
    FALLBACK = "fallback"  # asked already and still nothing clear: the fallback office


@dataclass(frozen=True)
class OfficeMatch:
    kind: MatchKind
    office: str | None = None


def match_office(
    text: str, offices: Sequence[Office], fallback: str, *, asked: bool,
    preselected: str | None = None, language: str = "",
) -> OfficeMatch:
    """The office for a youth's first words (or their answer to the one question), in
    ``language`` (the conversation's; "" = any)."""
    ids = {o.id for o in offices}
    if preselected in ids:
        return OfficeMatch(MatchKind.MATCHED, preselected)
    topics = topics_in(text, offices)
    postcode = postcode_in(text)
    candidates = _candidates(offices, topics, postcode)
    candidates = [o for o in candidates if language in o.languages] or candidates
    if len(candidates) == 1:
        return OfficeMatch(MatchKind.MATCHED, candidates[0].id)
    if asked:
        if candidates:
            return OfficeMatch(MatchKind.MATCHED, candidates[0].id)
        return OfficeMatch(MatchKind.FALLBACK, fallback)
    return OfficeMatch(MatchKind.ASK)


def _candidates(
    offices: Sequence[Office], topics: Sequence[str], postcode: str | None
) -> list[Office]:
    if not topics and postcode is None:
        return []
    pool = [o for o in offices if any(o.serves_topic(t) for t in topics)] if topics else list(
        offices)
    if postcode is not None:
        local = [o for o in pool if o.serves_postcode(postcode)]
        pool = [o for o in local if o.names_postcode(postcode)] or local
        if not topics and len(pool) > 1:
            return []  # a postcode alone with several offices there: ask for the topic
    return pool


# --- the installation's offices, as the conversation parts use them --------------------------


@dataclass(frozen=True)
class OfficeDesk:
    """What a conversation needs of one office beyond the matching: hours and what to say."""

    hours: OpeningHours | None = None  # None = the installation's [opening_hours]
    emergency: Mapping[str, str] = field(default_factory=dict)  # empty = the [crisis] numbers
    out_of_hours_text: str = ""
    # The same for a youth who writes English ("" = the standard English text).
    out_of_hours_text_en: str = ""
    team_leads: tuple[str, ...] = ()
    # Counsellors and team leads: the members of the office's own staff room.
    staff: tuple[str, ...] = ()
    # The configured staff room (alias or id); empty = the bot creates one.
    staff_room: str = ""
    # The office's own mail address (empty = [mail] office_address).
    mail_address: str = ""
    # Where its in-person appointments are, the number youths call for phone ones
    # (empty = [appointments] office_address / office_phone).
    address: str = ""
    phone: str = ""
    # Live chat response targets (None = the installation's [timers]).
    timers: TimerSettings | None = None
    # The office's own configured snippets, name (case-folded) -> text; [[snippets]] are
    # every office's besides.
    snippets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OfficeBook:
    """All offices of the installation; empty = one office, as before offices existed."""

    offices: tuple[Office, ...] = ()
    fallback: str = ""
    on_call: str = ""
    desks: Mapping[str, OfficeDesk] = field(default_factory=dict)
    # An office's former id (renamed, merged) -> the office it is now.
    former: Mapping[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.offices)

    def name(self, office_id: str) -> str:
        for office in self.offices:
            if office.id == office_id:
                return office.name
        return office_id

    def desk(self, office_id: str) -> OfficeDesk:
        return self.desks.get(office_id, OfficeDesk())

    def serving_desk(self, office_id: str) -> OfficeDesk:
        """The desk whose hours and words a youth of ``office_id`` is given: for an office
        renamed or removed since, the desk of the office that names it among its former ids,
        else the fallback office's, as their counsellors take it (rule 2 of
        core/routing/offices.py); not the installation's, which may keep other hours than
        the office that counsels the youth. An undecided conversation keeps the
        installation's until it is settled, and so does "" (no office: a group of the whole
        installation, as before)."""
        return self.desk(self.serving(office_id))

    def serving(self, office_id: str) -> str:
        """The configured office ``office_id`` is now (`serving_desk`); "" and undecided
        as they are."""
        if office_id in self.desks or office_id in ("", UNDECIDED) or not self.enabled:
            return office_id
        return self.former.get(office_id, self.fallback)

    def venue(self, office_id: str, default: Venue) -> Venue:
        """Where and when ``office_id`` holds appointments: its own hours, address and
        phone, each it leaves unset from ``default`` (the installation's). An unknown id
        ("" for appointments from before offices) keeps ``default`` as it is."""
        office_id = self.former.get(office_id, office_id)
        if office_id not in self.desks:
            return default
        desk = self.desks[office_id]
        return Venue(hours=desk.hours or default.hours, address=desk.address or default.address,
                     phone=desk.phone or default.phone, office=office_id,
                     name=self.name(office_id))
