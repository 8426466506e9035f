"""What a new chat conversation starts with: the greeting again if the youth writes in
another language than the default, the notice to staff, and out of hours when the office
opens and where help is meanwhile (also for a youth handed back after closing; in opening
hours with nobody on duty: where help is). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToStaff, SayToYouth
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.messages import Language
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.opening_hours_text import english_when
from counsel_bot.core.routing import Assign, QueuePositionChanged
from counsel_bot.core.routing.model import Channel, ConversationSnapshot


def welcome(
    step: Change, conversation: ConversationID, language: Language, *,
    default_language: Language, hours: OpeningHours, emergency: Mapping[Language, str],
    mail: bool, own_text: str = "",
) -> None:
    """``own_text``: the office's own words for when it is closed (`out_of_hours`)."""
    if language != default_language:
        # The greeting on joining was in the default language; answer in theirs.
        step.add(SayToYouth(conversation, "greeting"), f"greet:{conversation}")
    step.add(SayToStaff("staff_new_conversation",
                        (("conversation", conversation), ("language", language))),
             f"staff-new:{conversation}")
    if not hours.is_open(step.at):
        # Not to one a counsellor still on duty takes now: "not staffed, you stay in the
        # queue" while she joins sent them away from her (`handed_back` tells it if she
        # goes without a colleague to take over).
        if not any(isinstance(effect, Assign) and effect.conversation == conversation
                   for effect, _ in step.effects):
            step.add(out_of_hours(conversation, step.at, hours, emergency[language], mail=mail,
                                  own_text=own_text, language=language),
                     ooh_tag(conversation, step.at, hours))
    else:
        nobody_on_duty(step, conversation, emergency[language])


def nobody_on_duty(step: Change, conversation: ConversationID, emergency: str) -> None:
    """Open, but nobody on duty (the router has no estimate): a wait with no end in sight,
    as out of hours, so the youth learns where help is meanwhile. Also after the office
    question: the place in the queue comes only with the answer."""
    if any(isinstance(effect, QueuePositionChanged) and effect.conversation == conversation
           and effect.eta is None for effect, _ in step.effects):
        step.add(SayToYouth(conversation, "nobody_on_duty", (("emergency", emergency),)),
                 f"nobody-on-duty:{conversation}")


def handed_back(step: Change, current: ConversationSnapshot, hours: OpeningHours,
                emergency: str, *, someone_can_take: bool, mail: bool,
                language: Language, own_text: str = "") -> None:
    """A chat youth in the queue after closing with nobody on duty to take them (the last
    counsellor signed off at the end of the shift, holding them or not) is told when the
    chat opens again and where help is meanwhile, as one who writes after closing is:
    "someone else will join soon", the hand-back's own text, or "nobody is on duty right
    now" is a promise nobody keeps tonight. In opening hours (the last one off sick, an
    account closed) they are told where help is, as one who writes then is. Once per time
    in the queue and opening told (`ooh_tag`)."""
    if current.assigned_to is not None or current.channel is not Channel.CHAT \
            or someone_can_take:
        return
    conversation = current.conversation
    # Never taken yet: the welcome's key, so a youth it told already is not told again.
    back = "" if not current.assignments else f":back:{current.assignments}"
    if hours.is_open(step.at):
        step.add(SayToYouth(conversation, "nobody_on_duty", (("emergency", emergency),)),
                 f"nobody-on-duty:{conversation}{back}")
        return
    step.add(out_of_hours(conversation, step.at, hours, emergency, mail=mail,
                          own_text=own_text, language=language),
             ooh_tag(conversation, step.at, hours, back))


def ooh_tag(conversation: ConversationID, at: datetime, hours: OpeningHours,
            back: str = "") -> str:
    """The outbox tag of an out-of-hours notice: one per time in the queue and opening
    told. Without the opening, a youth who wrote on Sunday night ("we open on Monday at
    14:00") and still waited at Monday's close was never told of Tuesday: the outbox keeps
    the first of equal keys."""
    opening = hours.next_opening(at)
    return f"ooh:{conversation}{back}" + ("" if opening is None else f"@{opening:%Y%m%d%H%M}")


def out_of_hours(
    conversation: ConversationID, at: datetime, hours: OpeningHours, emergency: str, *,
    mail: bool, language: Language, own_text: str = "",
) -> SayToYouth:
    """When the chat opens again and where help is meanwhile; the way to mail only with
    ``mail`` (the office counsels by mail), or the youth is sent to a refusal. An office's
    ``own_text`` (its `out_of_hours_text`: its holidays, its way back) is said instead,
    with the numbers, wherever its youth hears that it is closed."""
    if own_text:
        return SayToYouth(conversation, "office.out_of_hours",
                          (("text", own_text), ("emergency", emergency)))
    opening = hours.next_opening(at)
    key = "out_of_hours_mail" if mail else "out_of_hours"
    if opening is None:
        # Hours that never open (a week without any): "Back: -" told a time there is not.
        return SayToYouth(conversation, key.replace("out_of_hours", "out_of_hours_no_time"),
                          (("emergency", emergency),))
    when = opening_text(opening.astimezone(hours.timezone), language)
    return SayToYouth(conversation, key, (("next_opening", when), ("emergency", emergency)))



def opening_text(local: datetime, language: Language) -> str:
    """When the chat opens, on the office's clock, as the youth's language writes a date:
    "24.11. 14:00", "Tue 24 Nov, 14:00"."""
    if language == "en":
        return english_when(local, year=False)
    return f"{local:%d.%m. %H:%M}"
