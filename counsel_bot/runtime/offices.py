"""The [[offices]] of the configuration as the conductor and the router use them."""

from __future__ import annotations

from datetime import date, timedelta

from counsel_bot.config import OfficeSettings, OpeningHoursSettings, Settings
from counsel_bot.conversation.retention import OTHER_OFFICES
from counsel_bot.core.ids import UserID
from counsel_bot.core.offices import TOPIC_NAMES, OfficeBook, OfficeDesk
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.opening_hours_text import opening_hours_lines
from counsel_bot.core.routing.model import Role
from counsel_bot.core.routing.offices import UNDECIDED, OfficeRules
from homeserver_bridge.entry_page.content import OfficeListing


def office_book(settings: Settings) -> OfficeBook:
    if not settings.offices:
        return OfficeBook()
    return OfficeBook(
        offices=tuple(o.office() for o in settings.offices),
        fallback=settings.fallback_office,
        on_call=settings.on_call_office,
        desks={o.id: _desk(o, settings) for o in settings.offices},
        former=_former(settings),
    )


def _former(settings: Settings) -> dict[str, str]:
    return {old: o.id for o in settings.offices for old in o.former_ids}


def office_rules(settings: Settings) -> OfficeRules:
    if not settings.offices:
        return OfficeRules()
    staff: dict[UserID, set[str]] = {}
    leads: dict[UserID, set[str]] = {}
    for office in settings.offices:
        for user in (*office.counsellors, *office.team_leads):
            staff.setdefault(UserID(user), set()).add(office.id)
        for user in office.team_leads:
            leads.setdefault(UserID(user), set()).add(office.id)
    # A [staff] team lead leads every office they work for.
    for user in settings.staff.team_leads:
        leads.setdefault(UserID(user), set()).update(staff.get(UserID(user), ()))
    return OfficeRules(
        offices=tuple(o.id for o in settings.offices),
        staff={user: frozenset(ids) for user, ids in staff.items()},
        leads={user: frozenset(ids) for user, ids in leads.items()},
        fallback=settings.fallback_office,
        on_call=settings.on_call_office,
        former=_former(settings),
    )


def unreached_offices(settings: Settings) -> list[str]:
    """Warnings for offices a youth's words never reach: one with the same topics, postcode
    areas and languages as an office listed before it (the matcher takes the first of
    equals, after asking every such youth to no use). Allowed, as a team reached by its
    start text alone may be meant; said at `counsel up`."""
    seen: dict[tuple[object, ...], str] = {}
    warnings = []
    for office in (o.office() for o in settings.offices):
        served = frozenset(office.topics or ("general",))
        key = (served, frozenset(office.areas), frozenset(office.languages))
        first = seen.setdefault(key, office.id)
        if first != office.id:
            warnings.append(
                f"office {office.id!r} has the same topics, postcodes and languages as "
                f"{first!r}, listed before it: a youth's words always reach {first!r}, and "
                f"{office.id!r} only by its start text (stelle:{office.id}) or a transfer; "
                "give it other topics, postcodes or languages if that is not meant")
    return warnings


def office_staff(settings: Settings) -> dict[UserID, Role]:
    """Office counsellors and leads join the roster; a lead anywhere has the lead's role,
    which the router's office rules (`OfficeRules.leads_on`) grant only in the offices they
    lead."""
    roles: dict[UserID, Role] = {}
    for office in settings.offices:
        for user in office.counsellors:
            roles.setdefault(UserID(user), Role.COUNSELLOR)
        for user in office.team_leads:
            roles[UserID(user)] = Role.TEAM_LEAD
    return roles


def _desk(office: OfficeSettings, settings: Settings) -> OfficeDesk:
    hours = None
    if office.hours:
        own = OpeningHoursSettings(timezone=settings.opening_hours.timezone, weekly=office.hours,
                                   holidays=settings.opening_hours.holidays)
        hours = OpeningHours.from_dict(own.as_dict())
    emergency = {lang: text for lang, text in (("de", office.emergency_de),
                                                ("en", office.emergency_en)) if text}
    return OfficeDesk(hours=hours, emergency=emergency,
                      out_of_hours_text=office.out_of_hours_text,
                      out_of_hours_text_en=office.out_of_hours_text_en,
                      team_leads=office.team_leads,
                      staff=(*office.counsellors, *office.team_leads),
                      staff_room=office.staff_room, mail_address=office.mail_address,
                      address=office.address.strip(), phone=office.phone.strip(),
                      timers=settings.office_timers(office.id),
                      snippets={s.name.casefold(): s.text for s in office.snippets})


def office_listings(settings: Settings, today: date) -> tuple[OfficeListing, ...]:
    """The offices for the entry page: names, topics in both languages, their hours."""
    book = office_book(settings)
    default = OpeningHours.from_dict(settings.opening_hours.as_dict())
    listings = []
    for office in book.offices:
        hours = book.desk(office.id).hours or default
        topics = {lang: ", ".join(names[t] for t in office.topics)
                  for lang, names in TOPIC_NAMES.items()}
        listings.append(OfficeListing(office.id, office.name, topics,
                                      opening_hours_lines(hours, since=today),
                                      book.desk(office.id).emergency))
    return tuple(listings)


def retention_by_office(settings: Settings) -> dict[str, timedelta]:
    """Each office's period (its retention_days, else [retention] closed_days);
    conversations from before offices (""), undecided ones and those of an office removed
    from the configuration since (`OTHER_OFFICES`) are the fallback office's (rule 2 of
    core/routing/offices.py) and keep its period."""
    if not settings.offices:
        return {}
    own = {o.id: timedelta(days=o.retention_days) if o.retention_days
           else settings.retention.keep for o in settings.offices}
    own[""] = own[UNDECIDED] = own[OTHER_OFFICES] = own[settings.fallback_office]
    for old, now in _former(settings).items():
        own[old] = own[now]
    return own
