"""Hostile text for the fuzzers: what a youth's or a broken client's message can hold.

Matrix bodies arrive as JSON, and Python's json module turns an escaped lone surrogate
("\\ud800") into a str holding it, so lone surrogates are real input, not a Python curiosity.
"""

from __future__ import annotations

from hypothesis import strategies as st

MAX_BODY = 64 * 1024

INVISIBLE = (
    "\u202e",  # right-to-left override
    "\u202d",  # left-to-right override
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
)

ODD = (
    "\x00", "\ud800", "\udfff", "\udbff", "\u0301", "\uff01", "\u01c3", "\ufe57", "\n",
    "\r\n", "\t", "\u00a0", "\u3000", "\u2028", "ß", "İ", "ﬁ", "Ⅻ", "\U0001f600",
    "\U0001f3f3\ufe0f\u200d\U0001f308", "!", "/", "@", ":", ",", ".", "?", "-", "C-",
)

WORDS = (
    "!duty", "!capacity", "!languages", "!topics", "!next", "!take", "!transfer", "!close",
    "!confirm", "!dismiss", "!status", "!queue", "!video", "!help", "!", "!!", "!DUTY",
    "on", "off", "an", "aus", "planned", "unplanned", "queue", "warteschlange",
    "@anna:x", "@lea:x", "@a:b:8448", "C-0000ABCD", "de", "en", "tr", "0", "1", "99", "100",
    "-1", "٣", "hilfe", "help", "video", "mail", "e-mail", "ende", "end", "beenden",
    "löschen", "loeschen", "delete", "ja löschen", "yes delete", "Hilfe!",
    "ich will nicht mehr leben", "I want to die", "ich lach mich tot", " ", "  ",
    # The group, forum and workday parsers' words: a word the fuzzer must stumble on by
    # chance is never followed by the argument that breaks its parser.
    "gruppe", "group", "forum", "!group", "!gruppe", "!forum", "new", "neu", "approve",
    "!mute", "!remove", "!end", "!note", "!notes", "!s", "!snippet", "add", "remove",
    "!termin", "!appointment", "!termine", "cancel", "absagen", "list", "max", "90min",
    "2026-12-10", "18:00", "#", '"', "schule",
    # Digits str.isdigit() calls digits and int() refuses (Ethiopic one, superscript two,
    # circled one), and some it reads (Arabic-Indic three, fullwidth one).
    "\u1369", "\u00b2", "\u2460", "\u0663", "\uff11",
)

any_char = st.characters(exclude_categories=())  # surrogates and controls included
token = st.one_of(
    st.sampled_from(INVISIBLE),
    st.sampled_from(ODD),
    st.sampled_from(WORDS),
    st.text(any_char, max_size=6),
)
assembled = st.lists(token, max_size=14).map("".join)
spaced = st.lists(token, max_size=10).map(" ".join)


# Units whose runs the crisis detector handles in linear time today. Runs of letters (also
# spaced or dotted: the normaliser joins "a a a" and "a.a.a" into one token) take it seconds
# per 64 KB message: see test_slow_input.py. Until that is fixed, the conductor fuzzer floods
# with these; the parsers get every unit.
LINEAR_UNITS = (*INVISIBLE, "\x00", "\ud800", "\u0301", "\uff01", "\n", "\t", "\u00a0",
                "\u3000", "\U0001f600", "!", "/", ":", ",", "?", "-", "7", "123 ",
                "sterben ", "ich will nicht mehr leben ", "hilfe ", "ende ")


@st.composite
def huge(draw: st.DrawFn, units: tuple[str, ...] | None = None) -> str:
    """A body of about 64 KB (just under, at or just over), built by repetition so
    hypothesis need not generate each character."""
    head = draw(assembled)
    if units is None:
        unit = draw(st.text(any_char, min_size=1, max_size=4) | st.sampled_from(INVISIBLE + ODD))
    else:
        unit = draw(st.sampled_from(units))
    target = MAX_BODY + draw(st.integers(-2, 2))
    return (head + unit * (target // len(unit) + 1))[:target]


def hostile_text(*, big: bool = True) -> st.SearchStrategy[str]:
    options = [assembled, spaced, st.text(any_char, max_size=40)]
    if big:
        options.append(huge())
    return st.one_of(*options)
