"""Text normalisation: turn what youths type into a plain token string.

The output is lowercase ASCII tokens ``[a-z0-9]+`` separated by single spaces, with
``.`` standing alone as a clause boundary. Lexicon patterns go through the same
function, so spelling variants meet in one form:

- NFKC, case folding; ä/ae, ö/oe, ü/ue, ß/ss all end as the two-letter form;
- zero-width, bidi-override and variation-selector characters vanish;
- emoji listed in the lexicon become word tokens (``emojipil``);
- leetspeak inside words that also contain letters (``st3rb3n``), so "116 111" stays;
- separators inside words (``selbst-mord``, ``s.u.i.z.i.d``, ``s u i z i d``);
- every run of a repeated letter collapses to one letter (``lebeeeen`` -> ``leben``,
  ``will`` -> ``wil``): doubles carry no meaning for matching, and collapsing all of
  them makes the function idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# Characters that render as nothing (or reorder text) and are used to dodge filters.
_INVISIBLE = (
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2070),
    *range(0xFE00, 0xFE10),
    *range(0x1F3FB, 0x1F400),
    *range(0xE0000, 0xE0080),
)
_BOUNDARY_CHARS = "!?;:,\n\r\t"
_LATIN_LOOKALIKES = {
    # Cyrillic and Greek letters that look Latin, used to slip past word lists.
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ν": "v",
}
_LEET = str.maketrans({"1": "i", "3": "e", "4": "a", "0": "o", "5": "s", "$": "s",
                       "7": "t", "@": "a"})

_BANG_IN_WORD = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_JOINERS_IN_WORD = re.compile(r"(?<=[a-z0-9])['\-_*·+]+(?=[a-z0-9@$])")
_DOTTED_LETTERS = re.compile(r"(?<![a-z0-9@$.])[a-z0-9@$](?:\.[a-z0-9@$])+(?![a-z0-9@$])")
_ELLIPSIS = re.compile(r"\.{2,}")
_DOT = re.compile(r"\.")
_JUNK = re.compile(r"[^a-z0-9@$. ]+")
# Every run of word characters; _leet_token leaves runs without a leet character alone.
# (A pattern that itself demanded a digit inside the run backtracked quadratically on long
# runs of letters: a 64 KB message took 27 s.)
_LEET_TOKEN = re.compile(r"[a-z0-9@$]+")
_LEET_CHARS = frozenset("0123456789@$")
_REPEATS = re.compile(r"(ae|oe|ue|[a-z])\1+")
_SPACED_LETTERS = re.compile(r"(?<![^ ])[a-z0-9](?: [a-z0-9]){2,}(?![^ ])")
# Letters spaced out with wider gaps between the words ("i c h   b r i n g   m i c h"): the
# gaps must be read before whitespace is collapsed, or the words run together.
_SPACED_WORDS = re.compile(r"(?<![^ ])[a-z0-9](?: +[a-z0-9]){2,}(?![^ ])")
_WIDE_GAP = re.compile(r"  +")
_BOUNDARY_RUN = re.compile(r"\.(?: \.)+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

EMOJI_TOKEN_PREFIX = "emoji"  # noqa: S105 - a word prefix, not a secret


def _leet_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if _LEET_CHARS.isdisjoint(token):
        return token
    if any("a" <= ch <= "z" for ch in token):
        return token.translate(_LEET)
    return token.replace("@", "").replace("$", "")


def _collapse_repeats(text: str) -> str:
    # Collapsing can create a new run ("aeeae" -> "aeae"), so repeat until stable.
    while True:
        collapsed = _REPEATS.sub(r"\1", text)
        if collapsed == text:
            return text
        text = collapsed


def _join_letters(letters: str) -> str:
    # Joining can put digits next to letters ("s u 1 z 1 d"): leetspeak applies again.
    return _LEET_TOKEN.sub(_leet_token, letters.replace(" ", ""))


def _join_spaced(match: re.Match[str]) -> str:
    run = match.group(0)
    # "i c u t myself": English "i" starts the run but is a word of its own.
    if run.startswith("i ") and run.count(" ") >= 3:
        return "i " + _join_letters(run[2:])
    return _join_letters(run)


def _split_spaced_words(match: re.Match[str]) -> str:
    run = match.group(0)
    if "  " not in run:
        return run
    words = _WIDE_GAP.split(run)
    if not any(" " in word for word in words):
        return run  # every gap is wide: single letters or digits in a list, not a word
    if len(words) < 3:
        # Two parts are more often one word spaced out in two ("s e l b s t   m o r d",
        # "a b s c h i e d s   b r i e f") than a sentence: joined as before.
        return run
    return " ".join(_join_letters(word) for word in words)


def _is_burst(text: str) -> bool:
    """A sentence typed a word or two per line ("ich\nwill\nsterben"): its line ends are
    spaces, not the sentence ends they are in prose (where they stop a phrase from matching
    across two thoughts)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) > 1 and all(len(line.split()) <= 2 for line in lines)


class Normaliser:
    """Normalises text; holds only the read-only translation table built from the emoji map."""

    def __init__(self, emoji: Mapping[str, str]) -> None:
        table: dict[int, str | None] = dict.fromkeys(_INVISIBLE)
        table.update({ord("ä"): "ae", ord("ö"): "oe", ord("ü"): "ue", ord("ß"): "ss",
                      ord("ẞ"): "ss", ord("’"): "'", ord("‘"): "'", ord("`"): "'",
                      ord("´"): "'", ord("…"): " ", ord("€"): "e", ord("–"): " ",
                      ord("—"): " "})
        for ch in _BOUNDARY_CHARS:
            table[ord(ch)] = " . "
        for ch, latin in _LATIN_LOOKALIKES.items():
            table[ord(ch)] = latin
        for symbol, name in emoji.items():
            table[ord(symbol)] = f" {EMOJI_TOKEN_PREFIX}{name} "
        self._table = table

    def normalise(self, text: str) -> str:
        if "\n" in text and _is_burst(text):
            text = " ".join(text.split())
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
        text = text.casefold()
        if "!" in text or "|" in text:
            text = _BANG_IN_WORD.sub("i", text)
        text = text.translate(self._table)
        if not text.isascii():
            text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        text = _JOINERS_IN_WORD.sub("", text)
        if "." in text:
            text = _DOTTED_LETTERS.sub(lambda m: m.group(0).replace(".", ""), text)
            text = _DOT.sub(" . ", _ELLIPSIS.sub(" ", text))
        text = _JUNK.sub(" ", text)
        text = _LEET_TOKEN.sub(_leet_token, text)
        if "  " in text:
            text = _SPACED_WORDS.sub(_split_spaced_words, text)
        text = _collapse_repeats(" ".join(text.split()))
        joined = _SPACED_LETTERS.sub(_join_spaced, text)
        if joined != text:
            text = _collapse_repeats(joined)
        if "." in text:
            text = _BOUNDARY_RUN.sub(".", text)
        return text


def validate_emoji_key(symbol: str) -> str | None:
    """Return the single code point an emoji key stands for, or None if it is not one."""
    stripped = "".join(ch for ch in symbol if ord(ch) not in _INVISIBLE_SET)
    stripped = unicodedata.normalize("NFKC", stripped)
    return stripped if len(stripped) == 1 else None


_INVISIBLE_SET = frozenset(_INVISIBLE)
