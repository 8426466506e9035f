"""HTML mail reduced to plain text, safely. Pure.

Nothing is fetched or executed: the stdlib parser only tokenises, script/style and similar
content is dropped, images become their alt text, and links keep their address only when it
is a web or mail link (as text, for a person to judge). The output is cleaned of control and
direction-override characters, which could make a message read differently than it is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Their content is never text a person wrote for the reader.
_SKIP = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "svg", "math", "object",
     "iframe", "frame", "frameset", "applet", "embed", "canvas", "select", "button"}
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
_BLOCK = frozenset(
    {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "table",
     "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
     "pre", "address", "figure", "figcaption", "form", "fieldset", "center"}
)  # fmt: skip
# What a head holds. Anything else in it (text, <body>, <p>) ends it: HTML lets </head>
# (and <body>) be left out, and the reader's mail program shows what follows.
_HEAD_CONTENT = frozenset(
    {"base", "link", "meta", "title", "style", "script", "noscript", "template"}
)  # fmt: skip
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_MAX_NESTING = 200
# C0/C1 controls except tab and newline, and the bidi embedding/override/isolate marks.
_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Half of a UTF-16 pair, as a broken UTF-7 word or an escape between encoded words decodes:
# no UTF-8 store or Matrix event takes it, so it stands as the replacement character.
_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text safe to show and store: no control or direction-override characters, no lone
    surrogates, tidy blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNSAFE_CHARS.sub("", text)
    text = _LONE_SURROGATES.sub("\ufffd", text)
    # Line by line, not a regex for blanks before a line break: that one tried every start
    # in a run of blanks, quadratic in its length, on the bot's event loop.
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def html_to_text(html: str) -> str:
    reducer = _Reducer()
    # After the last ">" no tag can end: the parser shows it as text, but (before Python
    # 3.13) reads each "<" there anew to the end, time quadratic in it (a day for the
    # megabytes a mail may hold). Given as the text it is read as, it is read in one pass.
    end = html.rfind(">") + 1
    reducer.feed(html[:end] + html[end:].replace("<", "&lt;"))
    reducer.close()
    return clean_text(reducer.text())


class _Reducer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._open: list[str] = []
        # How many of each are open: a stray end tag is told in one look, not by searching
        # the open tags, which content to skip can make many (quadratic, on the event loop).
        self._open_count: dict[str, int] = {}
        # Per open link: its safe address (or None) and where its text starts in _out.
        self._links: list[tuple[str | None, int]] = []
        # Open blockquotes: their lines are marked "> ", as a plain-text mail quotes (the
        # mail answered, which the crisis check of a reply leaves out); per blockquote
        # open, whether it is such a quote (`_is_indent`).
        self._quote_depth = 0
        self._quotes: list[bool] = []

    def text(self) -> str:
        return "".join(self._out)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # The standard library's parser (before Python 3.13) raises on "<![" not followed
        # by a keyword it knows: the whole mail was refused as unreadable, crisis words and
        # all. A browser reads it as a comment to the next ">", and so it is read here.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            return self.parse_bogus_comment(i, report)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HEAD_CONTENT:
            self._end_open_head()
        if tag in _VOID:
            self._void(tag, attrs)
            return
        if len(self._open) >= _MAX_NESTING and tag not in _SKIP:
            return  # too deep to track; content to skip is tracked at any depth
        self._open.append(tag)
        self._open_count[tag] = self._open_count.get(tag, 0) + 1
        if tag in _SKIP:
            self._skip_depth += 1
        elif self._skip_depth:
            return
        elif tag == "pre":
            self._pre_depth += 1
        if tag in _BLOCK:
            self._newline()
            if tag == "blockquote":
                quote = not _is_indent(attrs)
                self._quotes.append(quote)
                self._quote_depth += quote
        elif tag == "li":
            self._newline()
            self._quote_mark()
            self._out.append("- ")
        elif tag in ("td", "th"):
            self._out.append(" ")
        elif tag == "a":
            self._links.append((_safe_href(attrs), len(self._out)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HEAD_CONTENT:
            self._end_open_head()
        if tag in _VOID:
            self._void(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self._open_count.get(tag):
            return  # a stray end tag must not close anything else
        while self._open:
            opened = self._open.pop()
            self._open_count[opened] -= 1
            self._close(opened)
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip():
            self._end_open_head()
        if self._skip_depth:
            return
        if not self._pre_depth:
            data = re.sub(r"\s+", " ", data)
            if data == " " and (not self._out or self._out[-1].endswith(("\n", " "))):
                return
        elif self._quote_depth:
            data = data.replace("\n", "\n" + "> " * self._quote_depth)
        self._quote_mark()
        self._out.append(data)

    def _quote_mark(self) -> None:
        """At the start of a line in a blockquote: its mark."""
        if self._quote_depth and (not self._out or self._out[-1].endswith("\n")):
            self._out.append("> " * self._quote_depth)

    def _end_open_head(self) -> None:
        if self._open and self._open[-1] == "head":
            self.handle_endtag("head")

    def _close(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth -= 1
            return
        if self._skip_depth:
            return
        if tag == "pre":
            self._pre_depth -= 1
        if tag == "blockquote" and self._quotes:
            self._quote_depth -= self._quotes.pop()
        if tag in _BLOCK or tag == "li":
            self._newline()
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            # The address is shown as text only, so a link cannot pretend to go elsewhere.
            if href and href.removeprefix("mailto:") not in "".join(self._out[start:]):
                self._out.append(f" <{href}>")

    def _void(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_depth:
            return
        if tag == "br":
            self._out.append("\n")
        elif tag == "hr":
            self._newline()
            self._out.append("---\n")
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._quote_mark()
                gap = "" if not self._out or self._out[-1][-1:].isspace() else " "
                self._out.append(f"{gap}[{alt}]")

    def _newline(self) -> None:
        if self._out and not self._out[-1].endswith("\n"):
            self._out.append("\n")


# The browser's own indentation (WebKit's and Blink's "indent", which Gmail, Apple Mail and
# others use): a blockquote with no border. A quote has one, or is marked type="cite".
_NO_BORDER = re.compile(r"(?:^|;)\s*border\s*:\s*(?:none|0(?:px)?)\s*(?:;|$)", re.IGNORECASE)


def _is_indent(attrs: list[tuple[str, str | None]]) -> bool:
    """A blockquote that sets the writer's own words apart, not one quoting a mail."""
    found = dict(attrs)
    if (found.get("type") or "").strip().lower() == "cite" \
            or "quote" in (found.get("class") or "").lower():
        return False
    return bool(_NO_BORDER.search(found.get("style") or ""))


def _safe_href(attrs: list[tuple[str, str | None]]) -> str | None:
    href = (dict(attrs).get("href") or "").strip()
    if not href.lower().startswith(_LINK_SCHEMES) or len(href) > 500:
        return None
    return re.sub(r"\s", "", href)
