"""The entry page as HTML, and its QR code as SVG: pure functions of the content.

Templates are ``string.Template`` files beside this module. Every value is escaped unless it
is ``Html`` built here from escaped parts, so config values can never inject markup.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from html import escape
from importlib import resources
from string import Template

import segno

from homeserver_bridge.entry_page.content import (
    DEFAULT_EMERGENCY_NUMBERS,
    EmergencyNumber,
    EntryPageContent,
    Lang,
)
from homeserver_bridge.entry_page.texts import Texts, amount, texts_for
from homeserver_bridge.rate_limit import Scope

_TEMPLATES = ("page", "account", "token-offer", "token-issued", "token-refused", "closed")


class Html(str):
    """Markup that is already safe; everything else gets escaped."""


# -- what step 2 shows in token mode ------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """The button; ``press`` makes a repeated submit of this form return the same token."""

    press: str


@dataclass(frozen=True)
class Issued:
    token: str


@dataclass(frozen=True)
class Limited:
    scope: Scope
    retry_after: timedelta


@dataclass(frozen=True)
class Failed:
    """The homeserver did not answer; the button is offered again."""

    press: str


SignupState = Offer | Issued | Limited | Failed


def page_path(lang: Lang) -> str:
    return "/" if lang == "de" else "/en/"


class PageRenderer:
    def __init__(self, content: EntryPageContent, token_ttl_hours: int) -> None:
        self._content = content
        self._ttl_hours = token_ttl_hours
        folder = resources.files(__package__).joinpath("templates")
        self._templates = {
            name: Template(folder.joinpath(f"{name}.html").read_text(encoding="utf-8"))
            for name in _TEMPLATES
        }

    def render(
        self, lang: Lang, state: SignupState, on_duty: Mapping[str, bool] | None = None
    ) -> str:
        """``on_duty``: office id -> whether someone is on duty now (unknown: not shown)."""
        texts = texts_for(lang)
        other: Lang = "en" if lang == "de" else "de"
        content = self._content
        return self._fill(
            "page",
            texts,
            lang=lang,
            other_lang=other,
            other_href=page_path(other),
            office=content.office_name,
            emergency_items=_emergency_items(content.emergency_numbers, lang, texts),
            # Free only where known to be: the German lines it lists without others.
            t_emergency_lead=texts.emergency_lead
            if content.emergency_numbers == DEFAULT_EMERGENCY_NUMBERS
            else texts.emergency_lead_own,
            hours_block=_hours_block(*content.hours_in(lang), lang, texts),
            signup_block=self._signup_block(lang, texts, state),
            chat_link=content.chat_link,
            bot_user_id=content.bot_user_id,
            offices_block=_offices_block(content, lang, texts, on_duty or {}),
        )

    def _signup_block(self, lang: Lang, texts: Texts, state: SignupState) -> Html:
        registration = self._content.registration
        if registration == "closed":
            return self._fill("closed", texts)
        account = self._fill("account", texts, homeserver_url=self._content.homeserver_url)
        if registration == "open":
            return account
        hours = amount(lang, "hours", self._ttl_hours)
        rules = texts.code_rules.format(hours=hours)
        match state:
            case Offer(press) | Failed(press):
                offer = self._fill(
                    "token-offer", texts, lang=lang, press=press, code_rules=rules
                )
                if isinstance(state, Failed):
                    refused = self._fill("token-refused", texts, message=texts.code_failed)
                    return Html(account + refused + offer)
                return Html(account + offer)
            case Issued(token):
                issued_rules = texts.code_issued_rules.format(hours=hours)
                issued = self._fill("token-issued", texts, token=token, code_rules=issued_rules)
                return Html(account + issued)
            case Limited(scope, retry_after):
                wait = amount(lang, "minutes", _whole_minutes(retry_after))
                if scope == "address":
                    message = texts.code_limited_address.format(minutes=wait)
                else:
                    message = texts.code_limited_global.format(minutes=wait)
                return Html(account + self._fill("token-refused", texts, message=message))

    def _fill(self, name: str, texts: Texts, **values: str) -> Html:
        mapping = {f"t_{key}": value for key, value in asdict(texts).items()}
        mapping.update(values)
        return Html(self._templates[name].substitute({k: _safe(v) for k, v in mapping.items()}))


def qr_svg(link: str, title: str) -> bytes:
    """A QR code for ``link``, drawn locally (nothing is fetched from a QR service)."""
    code = segno.make(link, error="m")
    out = io.BytesIO()
    code.save(
        out, kind="svg", scale=4, border=4, dark="#000000", light="#ffffff",
        xmldecl=False, title=title,
    )
    return out.getvalue()


def _emergency_items(numbers: tuple[EmergencyNumber, ...], lang: Lang, texts: Texts) -> Html:
    items = []
    for entry in numbers:
        links = f" {escape(texts.word_or)} ".join(
            f'<a class="tel" href="tel:{escape(number.replace(" ", ""))}">{escape(number)}</a>'
            for number in entry.numbers
        )
        name_lang, name = entry.name_in(lang)
        note_lang, note = entry.note_in(lang)
        note_html = (
            f'<span class="note"{_lang_attr(note_lang, lang)}>{escape(note)}</span>' if note else ""
        )
        items.append(
            f'      <li><span class="name"{_lang_attr(name_lang, lang)}>{escape(name)}</span> '
            f'<span class="dial">{links}</span> {note_html}</li>'
        )
    return Html("\n".join(items))


def _hours_block(shown: Lang, lines: tuple[str, ...], lang: Lang, texts: Texts) -> Html:
    if not lines:
        return Html(f"    <p>{escape(texts.hours_unknown)}</p>")
    items = "\n".join(f"      <li>{escape(line)}</li>" for line in lines)
    return Html(
        f'    <ul class="hours"{_lang_attr(shown, lang)}>\n{items}\n    </ul>\n'
        f"    <p>{escape(texts.hours_later)}</p>"
    )


# Kept here rather than in texts.py: they appear only when several offices share the bot.
_OFFICE_TEXTS: dict[Lang, dict[str, str]] = {
    "de": {
        "heading": "Unsere Beratungsstellen",
        "lead": "Du kannst dir eine Stelle aussuchen: Schreib dem Chat als erste Nachricht "
                "den Starttext der Stelle. Oder schreib einfach, worum es geht – dann fragen "
                "wir kurz nach.",
        "topics": "Themen",
        "start": "Starttext",
        "chat": "Zum Chat",
        "help": "Wenn es dir gerade sehr schlecht geht",
        "on_duty": "Gerade ist jemand da.",
        "off_duty": "Gerade ist niemand im Chat – schreib trotzdem, wir melden uns.",
    },
    "en": {
        "heading": "Our counselling offices",
        "lead": "You can pick an office: send the office's start text as your first message "
                "in the chat. Or just write what it is about – we will ask briefly.",
        "topics": "Topics",
        "start": "Start text",
        "chat": "Open the chat",
        "help": "If you are in a bad way right now",
        "on_duty": "Someone is there right now.",
        "off_duty": "Nobody is in the chat right now – write anyway, we will get back to you.",
    },
}


def _offices_block(
    content: EntryPageContent, lang: Lang, texts: Texts, on_duty: Mapping[str, bool]
) -> Html:
    if not content.offices:
        return Html("")
    words = _OFFICE_TEXTS[lang]
    cards = []
    for office in content.offices:
        topics = office.topics.get(lang) or office.topics.get("de", "")
        shown = lang if office.hours.get(lang) else "de"
        lines = tuple(office.hours.get(shown, ()))
        hours = _hours_block(shown, lines, lang, texts) if lines else Html("")
        # Its own lines (German ones where it names no English ones: numbers are numbers).
        said: Lang = lang if office.emergency.get(lang) else "de"
        crisis = office.emergency.get(said, "")
        help_line = (f"      <p class=\"help\">{escape(words['help'])}: "
                     f"<span{_lang_attr(said, lang)}>{escape(crisis)}</span></p>\n"
                     if crisis else "")
        duty = on_duty.get(office.id)
        now = "" if duty is None else (
            f'      <p class="now">{escape(words["on_duty" if duty else "off_duty"])}</p>\n')
        cards.append(
            f'    <div class="office" id="office-{escape(office.id)}">\n'
            f"      <h3>{escape(office.name)}</h3>\n"
            + (f"      <p>{escape(words['topics'])}: {escape(topics)}</p>\n" if topics else "")
            + f"{hours}\n{now}{help_line}"
            f"      <p>{escape(words['start'])}: <code>{escape(office.start_text)}</code> "
            f'<a href="{escape(content.chat_link)}" rel="noreferrer">'
            f"{escape(words['chat'])}</a></p>\n"
            "    </div>"
        )
    return Html(
        '  <section class="card" aria-labelledby="offices">\n'
        f'    <h2 id="offices">{escape(words["heading"])}</h2>\n'
        f"    <p>{escape(words['lead'])}</p>\n" + "\n".join(cards) + "\n  </section>\n"
    )


def _lang_attr(shown: Lang, page: Lang) -> str:
    return "" if shown == page else f' lang="{shown}"'


def _whole_minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


def _safe(value: str) -> str:
    return value if isinstance(value, Html) else escape(value)
