"""Which office a youth's conversation goes to, and telling them. Pure: effects into the Change.

The first message is matched (`core/offices.py`); when it names no office clearly, the youth
gets one short question with numbered topics and the conversation waits with its office
undecided; the next message settles it, with the fallback office if still nothing fits. Each
time the youth is told the office's name. What they typed (a postcode, say) goes only into
the sealed intake like every message; nothing here keeps or logs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.welcome import out_of_hours
from counsel_bot.core.effects import Effect, SayToStaff, SayToYouth, Transcript
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.messages import Language, spoken
from counsel_bot.core.offices import MatchKind, OfficeBook, match_office, topic_menu
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing import Reply, Router
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import ConversationSnapshot, Priority
from counsel_bot.core.routing.offices import UNDECIDED, OfficeRules

# A start text like "stelle:familie" (the entry page's, per office) preselects the office,
# wherever it stands in the first words: "Hallo, stelle:familie", the page's whole line
# copied, a full stop after it. Only an office id it names counts (`match_office`).
_PRESELECT = re.compile(r"(?<!\w)(?:office|stelle):\s*([a-z0-9][a-z0-9_-]{0,31})")


def preselected(body: str) -> str | None:
    found = _PRESELECT.search(body.lower())
    return None if found is None else found.group(1)


def first_office(book: OfficeBook, body: str, language: str = "") -> str:
    """The office for a new conversation: matched, or `UNDECIDED` (the youth is asked)."""
    if not book.enabled:
        return ""
    found = match_office(body, book.offices, book.fallback, asked=False,
                         preselected=preselected(body), language=language)
    return found.office if found.office is not None else UNDECIDED


def answering_language(book: OfficeBook, office: str, language: Language) -> Language:
    """The language to answer in when the youth's words told none yet (``language`` is the
    default): an office that does not counsel in it, but in another our texts have, is
    answered in that one (an English-only office on a German installation)."""
    for one in book.offices:
        if one.id == office and language not in one.languages:
            return next((spoken(lang) for lang in one.languages if lang in ("de", "en")),
                        language)
    return language


def mail_office(book: OfficeBook, text: str, language: str = "") -> str:
    """A mail's office: no question goes back and forth by mail, so what the text names,
    else the fallback office ("" with a single office)."""
    if not book.enabled:
        return ""
    found = match_office(text, book.offices, book.fallback, asked=True, language=language)
    return found.office or book.fallback


def office_of_address(book: OfficeBook, address: str) -> str | None:
    """The office whose own mail address a mail came to, if any."""
    wanted = address.strip().lower()
    for office in book.offices:
        own = book.desk(office.id).mail_address.strip().lower()
        if own and own == wanted:
            return office.id
    return None


def mail_from(book: OfficeBook, office: str, default: str) -> str:
    """The address an office's mail replies come from."""
    if office in ("", UNDECIDED):
        office = book.fallback
    # Renamed or removed since: the office it is now (`OfficeBook.serving`).
    return book.serving_desk(office).mail_address or default


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


def ask_again(step: Change, book: OfficeBook, conversation: ConversationID,
              language: Language) -> None:
    """The one question again, in the language the youth just switched to."""
    step.add(SayToYouth(conversation, "office.ask",
                        (("menu", topic_menu(book.offices, language)),)),
             f"office-ask:{conversation}:{language}:{step.at.isoformat()}")


def answer_office(book: OfficeBook, body: str, language: Language) -> tuple[str, bool]:
    """The office the youth's answer to the one question names, and whether it is the
    fallback office because nothing fit."""
    found = match_office(body, book.offices, book.fallback, asked=True,
                         preselected=preselected(body), language=language)
    return found.office or book.fallback, found.kind is MatchKind.FALLBACK


def answered(
    step: Change, book: OfficeBook, conversation: ConversationID, body: str,
    language: Language, *, default_hours: OpeningHours,
    default_emergency: Mapping[Language, str], mail: bool,
) -> ev.OfficeChosen:
    """The youth's answer to the one question: always an office, never a second question."""
    office, fallback = answer_office(book, body, language)
    announce(step, book, conversation, office, language, fallback=fallback)
    closed_notice(step, book, conversation, office, language, default_hours=default_hours,
                  default_emergency=default_emergency, mail=mail)
    return ev.OfficeChosen(step.at, conversation, office)


def closed_notice(
    step: Change, book: OfficeBook, conversation: ConversationID, office: str,
    language: Language, *, default_hours: OpeningHours,
    default_emergency: Mapping[Language, str], mail: bool,
) -> None:
    """Out of the office's hours: when it opens, its own words if it has them, and help."""
    desk = book.serving_desk(office)
    hours = desk.hours or default_hours
    if hours.is_open(step.at):
        return
    emergency = desk.emergency.get(language) or default_emergency[language]
    step.add(out_of_hours(conversation, step.at, hours, emergency, mail=mail,
                          own_text=closed_text(book, office, language), language=language),
             f"ooh:{conversation}:{office}")


def closed_text(book: OfficeBook, office: str, language: Language) -> str:
    """The office's own words for when it is closed, in the youth's language ("" = the
    standard text: an English-speaking youth is not given the German words)."""
    desk = book.serving_desk(office)
    return desk.out_of_hours_text_en if language == "en" else desk.out_of_hours_text


def hours_of(book: OfficeBook, office: str, default: OpeningHours) -> OpeningHours:
    return book.serving_desk(office).hours or default


def emergency_of(
    book: OfficeBook, office: str, default: Mapping[Language, str]
) -> dict[Language, str]:
    own = book.serving_desk(office).emergency
    return {lang: own.get(lang) or default[lang] for lang in default}


# A youth who has not answered the office question after this long goes to the fallback
# office (and is told): the question must never become a waiting room nobody sees.
ANSWER_WAIT = timedelta(minutes=3)


def unanswered(
    step: Change, router: Router, book: OfficeBook, wait: timedelta = ANSWER_WAIT, *,
    default_hours: OpeningHours, default_emergency: Mapping[Language, str], mail: bool,
) -> list[ev.Event]:
    chosen: list[ev.Event] = []
    for conv in router.snapshot().conversations:
        if conv.office == UNDECIDED and step.at - conv.enqueued_at >= wait:
            lang = spoken(conv.language)
            announce(step, book, conv.conversation, book.fallback, lang, fallback=True)
            # As for a youth who answered: out of the office's hours, when it opens.
            closed_notice(step, book, conv.conversation, book.fallback, lang,
                          default_hours=default_hours, default_emergency=default_emergency,
                          mail=mail)
            tell_office(step, conv.conversation, book.fallback, lang)
            chosen.append(ev.OfficeChosen(step.at, conv.conversation, book.fallback))
    return chosen


# --- staff side -----------------------------------------------------------------------------


def tell_office(step: Change, conversation: ConversationID, office: str, language: str,
                version: int | None = None) -> None:
    """The office's staff room learns of a conversation that now is theirs."""
    tag = f"staff-new:{conversation}:{office}" + ("" if version is None else f":{version}")
    step.add(SayToStaff("staff_new_conversation",
                        (("conversation", conversation), ("language", language))), tag)


def moved(step: Change, reply: Reply, router: Router, book: OfficeBook,
          default_language: str) -> None:
    """``!transfer office:ID`` went through: the youth is told where they are now, and the
    new office's staff room of the conversation."""
    conversation = ConversationID(str(reply.param("id")))
    office = str(reply.param("office"))
    step.add(SayToYouth(conversation, "office.transferred_youth",
                        (("office", book.name(office)),)),
             f"office-moved:{conversation}:{router.version}")
    current = router.conversation(conversation)
    language = current.language if current is not None else default_language
    tell_office(step, conversation, office, language, router.version)


def _office_now(current: ConversationSnapshot, router: Router, rules: OfficeRules,
                book: OfficeBook) -> str:
    """Whose conversation it is for staff notices: its office (the fallback while
    undecided), or for a crisis whose office has nobody on duty the on-call office."""
    office = rules.office_of(current)
    if office == UNDECIDED:
        office = book.fallback
    staffed = rules.staffed(router.snapshot().counsellors)
    if current.priority is Priority.CRISIS and office not in staffed:
        office = book.on_call
    return office


def staff_office(conversation: ConversationID, router: Router, rules: OfficeRules,
                 book: OfficeBook) -> str:
    """The office whose staff room hears about ``conversation`` ("" = the main one)."""
    current = router.conversation(conversation)
    return "" if current is None else _office_now(current, router, rules, book)


def to_office_room(effect: Effect, router: Router, rules: OfficeRules,
                   book: OfficeBook) -> Effect:
    """A staff notice about a conversation goes to its office's staff room, and so do the
    case notes handed over with it (`Transcript`)."""
    if isinstance(effect, Transcript) and not effect.office:
        current = router.conversation(effect.conversation)
        return effect if current is None else replace(
            effect, office=_office_now(current, router, rules, book))
    if not isinstance(effect, SayToStaff) or effect.office:
        return effect
    params = dict(effect.params)
    named = params.get("conversation") or params.get("id")
    current = None if named is None else router.conversation(ConversationID(str(named)))
    if current is None:
        return effect
    return replace(effect, office=_office_now(current, router, rules, book))


# Notices whose details (a crisis's category, severity, rules and room; a report's reason,
# a youth's own words) are for the office's own staff alone.
_OFFICE_ONLY = frozenset({"staff_crisis_alert", "staff_report_crisis"})
# Notices for the one they call alone: a video call's link (the moderator's, with token
# auth) lets whoever reads it into the youth's call.
_CALLED_ONLY = frozenset({"video.counsellor_link", "video.staff_link"})
# A lead page asks those it calls to take the conversation, which only the office's staff
# may: read in the main room, it says whose it is (`staff_lead_page_elsewhere`).
_PAGES = frozenset({"staff_lead_page", "staff_lead_page_waiting"})


def reaching_everyone(effect: Effect, book: OfficeBook) -> tuple[Effect, ...]:
    """A notice for an office's staff room that calls somebody not in it (the on-call
    office's counsellor holding the office's crisis, once someone of the office is on duty
    again; other offices' leads when it has none to ring) goes to the main staff room, read
    by all staff, as a group's and a closed conversation's do: posted where they are not,
    it called nobody. A crisis alert or report stays in the office's room, calling only its
    own staff there, and the main room gets only what lets another office act: which
    conversation, that it is urgent, and whose (`staff_crisis_elsewhere`); the counsellor
    holding the youth gets the alert itself in a room of theirs (`room_for`), since "the
    details are only there" names a room they are not in. The case notes handed to such a
    counsellor, and a video call's link for them, go to their own office's room (the
    on-call one first), not the main one: what was written about a youth, and a key to
    their call, are not for every office. A lead page moved there names the office
    whose staff alone can take the conversation, rather than asking the others to."""
    if isinstance(effect, SayToStaff) and effect.office:
        called = effect.mentions
    elif isinstance(effect, Transcript) and effect.office:
        return (replace(effect, office=room_for(book, effect.office, effect.counsellor)),)
    else:
        return (effect,)
    members = book.serving_desk(effect.office).staff
    if all(user in members for user in called):
        return (effect,)
    if effect.key in _CALLED_ONLY and len(called) == 1:
        # One in no office (taken off the staff since the booking) has no room of theirs:
        # the office's own then, whose staff can take the call, never the main one.
        return (replace(effect, office=room_for(book, effect.office, called[0])
                        or effect.office),)
    if effect.key in _PAGES:
        return (replace(effect, key="staff_lead_page_elsewhere", office="",
                        params=(*effect.params, ("office", book.name(effect.office)))),)
    if effect.key not in _OFFICE_ONLY:
        return (replace(effect, office=""),)
    params = dict(effect.params)
    own = replace(effect, mentions=tuple(u for u in called if u in members))
    holder = params.get("assigned")
    if effect.key == "staff_crisis_alert" and called == (holder,):
        # The counsellor with the youth (the on-call one holding the office's crisis) is
        # the one to act on it: they read it in a room of theirs, as their case notes.
        theirs = room_for(book, effect.office, UserID(str(holder)))
        if theirs:
            return (own, replace(effect, office=theirs))
    conversation = params.get("conversation") or params.get("where") or "-"
    call = SayToStaff("staff_crisis_elsewhere",
                      (("conversation", conversation), ("office", book.name(effect.office))),
                      mentions=called)
    return (own, call)


def room_for(book: OfficeBook, office: str, user: UserID) -> str:
    """The staff room for what only `user` is told about one of `office`'s youths (case
    notes, a reply to a command they typed in the youth's room): the office's when they are
    in it, else one of their own offices' (the on-call one first, whose staff hold the
    office's crises), never the main one, which every office reads ("" when they belong to
    no office)."""
    if not office or user in book.desk(office).staff:
        return office
    theirs = [o.id for o in book.offices if user in book.desk(o.id).staff]
    return book.on_call if book.on_call in theirs else next(iter(theirs), "")


def visible(router: Router, rules: OfficeRules, user: UserID,
            conversation: ConversationID) -> ConversationSnapshot | None:
    current = router.conversation(conversation)
    if current is None or not rules.enabled:
        return current
    staffed = rules.staffed(router.snapshot().counsellors)
    return current if rules.sees(user, current, staffed) else None


def lead_of(router: Router, rules: OfficeRules, user: UserID,
            conversation: ConversationSnapshot) -> bool:
    """Whether `user` leads the office of `conversation` (the on-call office's leads lead an
    escalated crisis too); whether they are a team lead at all is their role's to say."""
    staffed = rules.staffed(router.snapshot().counsellors)
    return rules.leads_on(user, conversation, staffed)


def leads_for(conversation: ConversationID, router: Router, rules: OfficeRules,
              book: OfficeBook, ended_in: str | None = None) -> tuple[str, tuple[UserID, ...]]:
    """Whom a crisis flag nobody handled pages, and the office whose staff room the page
    goes to (they are members there): its office's leads, or, when its office has nobody
    on duty or no team lead, the on-call office's. ``ended_in``: the office of a
    conversation that has closed since. ("", ()) = nobody named: every lead."""
    current = router.conversation(conversation)
    if current is not None:
        office = rules.office_of(current)
    elif ended_in is not None and rules.enabled:
        office = rules.home(ended_in)
    else:
        return "", ()
    if office == UNDECIDED:
        office = book.fallback
    if office not in rules.staffed(router.snapshot().counsellors) \
            or not book.desk(office).team_leads:
        office = book.on_call
    leads = tuple(UserID(u) for u in book.desk(office).team_leads)
    return (office, leads) if leads else ("", ())
