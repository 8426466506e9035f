"""What a message's text is, besides words: a case code or a mail address, a reply's
quote; and the text made safe to store. Pure."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

_SURROGATE = re.compile("[\ud800-\udfff]")
_PASTED_CASE_CODE = re.compile(
    r"(?:(?:diesen|this)\s+)?(?:(?:fall|case)[- ]?)?(?:code\s*:?\s*)?"
    r"[\"'„“”‚‘’«»]?([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})[\"'„“”‚‘’«»]?[.!]*")
# What the mail composer sends to (homeserver_bridge/mail/settings.is_address) and no more:
# an address taken here that the composer refuses ("anna,mueller@gmx.de", a comma for a
# dot) left the counsellor's every reply unsendable.
_ADDRESS = re.compile(r"[^@\s<>\"(),;:\\\[\]\x00-\x1f\x7f-\x9f]{1,64}"
                      r"@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,63}")
# The first line of a reply fallback: "> <@alice:example.org> ", or "> * <@alice:…> " for
# an emote replied to.
_FALLBACK_HEAD = re.compile(r"> (\* )?<@[^<>\s:]+:[^<>\s]+> ")


def storable(body: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become U+FFFD instead of crashing."""
    return _SURROGATE.sub("\ufffd", body)


def without_reply_fallback(body: str) -> str:
    """A reply's own words: older clients put the message replied to in front, as
    "> <@sender:server> its first line", more lines quoted with "> ", then an empty line
    (the spec's reply fallback, since dropped). In a group that quote is often another
    youth's words, which must not flag the one who replies. Only that exact shape is taken
    away: a youth's own "> quote" or ">_>" stays their words."""
    lines = body.split("\n")
    if not _FALLBACK_HEAD.match(lines[0]):
        return body
    rest = list(itertools.dropwhile(lambda line: line.startswith(">"), lines))
    if not rest or rest[0].strip():
        return body  # no empty line after the quote: not a fallback
    return "\n".join(rest[1:])


def case_code_in(body: str) -> str | None:
    """A mail youth's one-time code for the chat, as the mail channel issues it, when it is
    all the message says: alone, or pasted with the invitation's label ("diesen Fall-Code:
    ...") or quotes, or ended with a full stop. A code inside a sentence is not taken: the
    sentence is for a counsellor to read."""
    found = _PASTED_CASE_CODE.fullmatch(body.strip().casefold())
    return found.group(1) if found else None


def mail_address(body: str) -> str | None:
    """A message that is just a mail address (a youth answering "which address?")."""
    address = body.strip().strip("<>")
    return address if _ADDRESS.fullmatch(address) else None


def meant_as_mail_address(body: str) -> bool:
    """One word with an @ in it that `mail_address` cannot use: a youth who was asked for
    their address and mistyped it is told so, not left waiting for a switch to mail."""
    word = body.strip()
    return "@" in word and len(word) <= 320 and not any(c.isspace() for c in word) \
        and mail_address(word) is None



# What an app shows nothing of: a reply's quote (`without_reply_fallback`), and code.
_UNSHOWN = frozenset({"mx-reply", "script", "style"})
# Tags an app breaks the line at.
_LINE_BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "pre", "tr",
                          "h1", "h2", "h3", "h4", "h5", "h6"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._unshown = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSHOWN:
            self._unshown += 1
        elif tag == "br" and not self._unshown:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSHOWN:
            self._unshown = max(0, self._unshown - 1)
        elif tag in _LINE_BREAKS and not self._unshown:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._unshown:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text an app shows of a message's HTML (``formatted_body``): no tags, entities
    read, a line per paragraph or break; nothing of a reply's quote, a script or a style."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(line.strip() for line in "".join(parser.parts).split("\n")).strip()
