"""The lines of a youth's reply read for what the youth wrote (pure): without the lines it
quotes ("> …") or the office's own mail quoted below Outlook's header block, with the line
breaks a mail program made (format=flowed, or a plain wrap at 76) joined for the crisis
check, which takes a line end for a clause end."""

from __future__ import annotations

import re

from homeserver_bridge.mail.said import Said

QUOTE_LEFT_OUT = "[> … zitierter Verlauf ausgelassen / quoted thread left out]"


# A quoted line: ">" then a space, another ">" or nothing, as mail programs write them. Not
# every line opening with ">": a youth's own line may open with a face (">.<", ">_<").
_QUOTED = re.compile(r"\s*>(?:[\s>]|$)")


def unquoted(text: str, said: Said | None = None) -> str:
    """The words a reply's writer wrote, without the lines they quote ("> …"): the mail
    answered, read already, or the office's own words (the crisis check reads these).
    Knowing what the office `said` in the thread, only the lines that hold its words are
    left out: a youth who answers inside the quote writes there."""
    return _without_quoted_lines(text, said)


# A line a mail program broke (Gmail's plain-text mode at 78 characters, Outlook's "wrap at
# 76") is this long; a line the writer ended is seldom, and a longer one is a paragraph
# written as one line, ended by its writer.
_WRAPPED_LINE = range(60, 101)
_CLAUSE_END = tuple(".!?:;…")
_LIST_ITEM = re.compile(r"\s*(?:[-*•–]|\d{1,3}[.)])\s")


def unwrapped(text: str) -> str:
    """The text with the line breaks its mail program made joined, for the crisis check: a
    line end is a clause end to it, and "ich will mich" / "umbringen", broken at 76
    characters, raised no flag. A break is taken for the program's after a line of a
    wrapped line's length that ends no clause, before a line that opens no list item and
    quotes nothing. (format=flowed marks its breaks: `unflowed`.)"""
    lines = text.split("\n")
    out: list[list[str]] = []  # each line's pieces, joined once (a long letter: linear)
    for index, line in enumerate(lines):
        if out and _wrapped_before(lines[index - 1], line):
            out[-1].append(line.strip())
        else:
            out.append([line])
    return "\n".join(" ".join(pieces) for pieces in out)


def unwrapped_and_written(text: str) -> str:
    """`unwrapped`, and under it the lines it joined as they were written, for the crisis
    check. A join is a guess: a youth on a phone ends a line themselves, seldom with a full
    stop, and joined to the next their "… auch nicht" denied the crisis words that followed
    ("ritze mich jeden abend"). Read both ways, a flag either reading raises is raised."""
    joined = unwrapped(text)
    if joined == text:
        return text
    lines = text.split("\n")
    written = [line for index, line in enumerate(lines)
               if (index and _wrapped_before(lines[index - 1], line))
               or (index + 1 < len(lines) and _wrapped_before(line, lines[index + 1]))]
    return "\n".join([joined, "", *written])


def _wrapped_before(line: str, following: str) -> bool:
    line = line.rstrip()
    return (len(line) in _WRAPPED_LINE and not line.endswith(_CLAUSE_END)
            and not _QUOTED.match(line) and bool(following.strip())
            and not _QUOTED.match(following) and not _LIST_ITEM.match(following))


def _without_quoted_lines(text: str, said: Said | None = None) -> str:
    """The text without its quoted lines ("> …"), each run of them one marker line; if
    `said` is given, only those holding what the office said."""
    out: list[str] = []
    for line in text.splitlines():
        if _QUOTED.match(line) and (said is None or said.wrote(line)):
            if not out or out[-1] != QUOTE_LEFT_OUT:
                out.append(QUOTE_LEFT_OUT)
        else:
            out.append(line)
    return "\n".join(out)


def unflowed(text: str, delsp: bool) -> str:
    """A format=flowed text (RFC 3676) with its soft line breaks joined: a line ending in a
    space goes on in the next of the same quote depth. Thunderbird and Apple Mail wrap a
    youth's text so at some 72 characters, and a line end stops a phrase of the crisis
    check: "ich will mich" / "umbringen" raised no flag. Quoted lines keep their "> "."""
    out: list[str] = []
    depth_open, pieces = 0, list[str]()  # the line being joined: its quote depth, its parts

    def end_line() -> None:
        words = "".join(pieces)  # joined once: a long paragraph is read in linear time
        out.append(f"{'>' * depth_open} {words}" if depth_open else words)
        pieces.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        words = line[depth:]
        words = words[1:] if words.startswith(" ") else words  # space-stuffing
        if pieces and depth != depth_open:
            end_line()  # a quote depth changes: no soft break
        depth_open = depth
        if words.endswith(" ") and words != "-- ":
            pieces.append(words[:-1] if delsp else words)
        else:
            pieces.append(words)
            end_line()
    if pieces:
        end_line()
    return "\n".join(out)


# Outlook quotes the mail answered unmarked, under a block of its headers ("Von: …",
# "Gesendet: …", "An: …", "Betreff: …"), in the reader's language; some programs put a
# rule or "-----Original Message-----" above it.
_QUOTED_FROM = re.compile(
    r"\s*\*?(?:from|von|de|da|van|od|från|fra)\s*:\*?\s", re.IGNORECASE)
_QUOTED_FIELD = re.compile(
    r"\s*\*?(?:sent|gesendet|date|datum|envoyé|enviado|inviato|verzonden|skickat|sendt|"
    r"to|an|cc|subject|betreff|objet|asunto|oggetto|onderwerp|ämne|emne)\s*:", re.IGNORECASE)
# Five dashes at least on each side of the words ("-----Ursprüngliche Nachricht-----",
# Thunderbird's eight): a youth's own line set between two or three ("--- ich will nicht
# mehr leben ---") is no rule, and was left out as one.
_QUOTE_RULE = re.compile(r"\s*(?:[-_=]{5,}|-{5,}[^-]{3,60}-{5,})\s*")
_QUOTE_BLOCK_LINES = 5


def without_office_quote(text: str, office: frozenset[str]) -> tuple[str, str]:
    """The text without the office's own mail quoted below its headers (Outlook): from the
    header block naming one of the office's addresses as the sender to the end (Outlook
    puts the whole thread there), as one marker line; and the words of that mail, up to
    the next header block (the older thread), "" if none was left out. A mail someone else
    sent, quoted so (a forwarded threat), stays: its sender is not the office."""
    if not office:
        return text, ""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not _QUOTED_FROM.match(line) or not any(a in line.lower() for a in office):
            continue
        near = range(max(0, index - _QUOTE_BLOCK_LINES),
                     min(len(lines), index + _QUOTE_BLOCK_LINES + 1))
        if not any(_QUOTED_FIELD.match(lines[i]) for i in near if i != index):
            continue
        start = index
        while start > 0 and (_QUOTED_FIELD.match(lines[start - 1])
                             or _QUOTE_RULE.fullmatch(lines[start - 1])):
            start -= 1
        return "\n".join([*lines[:start], QUOTE_LEFT_OUT]).strip(), _quoted_mail(lines[index:])
    return text, ""


def _quoted_mail(lines: list[str]) -> str:
    """The words of a mail quoted below its header block (its first line the block's From),
    up to the next block: the mail it answered in turn."""
    first = 1
    while first < len(lines) and (_QUOTED_FIELD.match(lines[first]) or not lines[first].strip()):
        first += 1
    end = first
    while end < len(lines) and not (
            (_QUOTED_FROM.match(lines[end]) or _QUOTE_RULE.fullmatch(lines[end]))
            and any(_QUOTED_FIELD.match(x) for x in lines[end + 1:end + _QUOTE_BLOCK_LINES + 1])):
        end += 1
    return "\n".join(lines[first:end]).strip()
