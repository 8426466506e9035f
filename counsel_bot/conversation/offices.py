"""Which office a youth's conversation goes to, and telling them. Pure: effects into the Change.

The first message is matched (`core/offices.py`); when it names no office clearly, the youth
gets one short question with numbered topics and the conversation waits with its office
undecided; the next message settles it, with the fallback office if still nothing fits. Each
time the youth is told the office's name. What they typed (a postcode, say) goes only into
the sealed intake like every message; nothing here keeps or logs it.
"""

from __future__ import annotations

from collections.abc import Mapping

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.welcome import out_of_hours
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.messages import Language
from counsel_bot.core.offices import MatchKind, OfficeBook, match_office, topic_menu
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.offices import UNDECIDED

# A start text like "office:family" (the entry page's link per office) preselects the office.
_PRESELECT = ("office:", "stelle:")


def preselected(body: str) -> str | None:
    text = body.strip().lower()
    for prefix in _PRESELECT:
        if text.startswith(prefix):
            return text[len(prefix):].split()[0] if text[len(prefix):].split() else None
    return None


def first_office(book: OfficeBook, body: str) -> str:
    """The office for a new conversation: matched, or `UNDECIDED` (the youth is asked)."""
    if not book.enabled:
        return ""
    found = match_office(body, book.offices, book.fallback, asked=False,
                         preselected=preselected(body))
    return found.office if found.office is not None else UNDECIDED


def announce(
    step: Change, book: OfficeBook, conversation: ConversationID, office: str,
    language: Language, *, fallback: bool = False,
) -> None:
    """Tell the youth where they are (or ask the one question)."""
    if not book.enabled:
        return
    if office == UNDECIDED:
        step.add(SayToYouth(conversation, "office.ask",
                            (("menu", topic_menu(book.offices, language)),)),
                 f"office-ask:{conversation}")
        return
    key = "office.fallback" if fallback else "office.chosen"
    step.add(SayToYouth(conversation, key, (("office", book.name(office)),)),
             f"office:{conversation}:{office}")


def answered(
    step: Change, book: OfficeBook, conversation: ConversationID, body: str,
    language: Language, *, default_hours: OpeningHours,
    default_emergency: Mapping[Language, str],
) -> ev.OfficeChosen:
    """The youth's answer to the one question: always an office, never a second question."""
    found = match_office(body, book.offices, book.fallback, asked=True,
                         preselected=preselected(body))
    office = found.office or book.fallback
    announce(step, book, conversation, office, language,
             fallback=found.kind is MatchKind.FALLBACK)
    closed_notice(step, book, conversation, office, language, default_hours=default_hours,
                  default_emergency=default_emergency)
    return ev.OfficeChosen(step.at, conversation, office)


def closed_notice(
    step: Change, book: OfficeBook, conversation: ConversationID, office: str,
    language: Language, *, default_hours: OpeningHours,
    default_emergency: Mapping[Language, str],
) -> None:
    """Out of the office's hours: when it opens, its own words if it has them, and help."""
    desk = book.desk(office)
    hours = desk.hours or default_hours
    if hours.is_open(step.at):
        return
    emergency = desk.emergency.get(language) or default_emergency[language]
    if desk.out_of_hours_text:
        step.add(SayToYouth(conversation, "office.out_of_hours",
                            (("text", desk.out_of_hours_text), ("emergency", emergency))),
                 f"ooh:{conversation}:{office}")
    else:
        step.add(out_of_hours(conversation, step.at, hours, emergency),
                 f"ooh:{conversation}:{office}")


def hours_of(book: OfficeBook, office: str, default: OpeningHours) -> OpeningHours:
    return book.desk(office).hours or default


def emergency_of(
    book: OfficeBook, office: str, default: Mapping[Language, str]
) -> dict[Language, str]:
    own = book.desk(office).emergency
    return {lang: own.get(lang) or default[lang] for lang in default}
