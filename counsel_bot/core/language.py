"""Guess whether a youth writes German or English, from their own words (pure)."""

from __future__ import annotations

import re
from itertools import pairwise

from counsel_bot.core.commands import youth_words_text
from counsel_bot.core.messages import Language

_WORD = re.compile(r"[a-zäöüß']+")
# Short, frequent function words; a youth's first message is often only a few words long.
_GERMAN = frozenset(
    {
        "ich", "du", "nicht", "und", "ist", "bin", "hallo", "hab", "habe", "mir", "mich",
        "mein", "meine", "wie", "warum", "weil", "aber", "auch", "kann", "will",
        "möchte", "jemand", "hilfe", "bitte", "danke", "ja", "nein", "schon", "noch", "gerade",
        "keine", "kein",
    }
)
# Not "hi", "thanks", "yes", "no", "please", "just": German youths write them as often as
# English ones ("no" is Swabian for "noch"), and a language told is kept for the whole chat
# (numbers and safety text too) unless the youth names another. Nor "also", "am" and the
# spoken "is" ("also ich weiß nicht", "am Wochenende", "das is so"), German words; nor,
# for German, "was" ("it was so bad"). A word both write tells nothing: the language stays
# open for the next words to tell. "i" is counted apart (`_english_i`).
_ENGLISH = frozenset(
    {
        "you", "not", "and", "hello", "have", "me", "my", "what", "how",
        "why", "because", "but", "can", "want", "would", "someone", "help",
        "really", "don't", "can't", "i'm", "it's", "anyone",
    }
)


# Bavarian, Austrian, Swabian and Swiss words: beside them "i" is "ich" ("i mog nimma",
# "i han koi ahnung"). Not those English youths write too ("gang", "mini", "bi", "net").
_DIALECT = frozenset(
    {
        "mi", "ned", "nimma", "nimmer", "nimmi", "mog", "hoit", "koa", "koi", "scho",
        "hob", "fei", "dahoam", "ois", "nix", "mei", "des", "oida", "wos", "gor", "isch",
        "han", "woas", "muas", "mim", "ebbes", "oifach", "heit", "nit", "moch",
        "san", "lei", "gsi", "vo", "hock", "hau", "ds",
    }
)


def _english_i(words: list[str]) -> int:
    """How often "i" tells English: not beside a dialect's words, where it is "ich", nor in
    a word spelt out letter by letter ("s u i z i d"), as youths write what they dare not."""
    if any(word in _DIALECT for word in words) or any(
            len(one) == 1 and len(two) == 1 for one, two in pairwise(words)):
        return 0
    return words.count("i")


def guess_language(message: str, default: Language) -> Language:
    """German or English by counting marker words; ``default`` when it cannot be told."""
    return told_language(message) or default


def told_language(message: str) -> Language | None:
    """German or English by counting marker words; None when the words do not tell ("hey",
    a picture, nothing decrypted yet)."""
    # Read as commands are (full-width letters, zero-width marks, a Turkish keyboard's
    # "İ"), a phone's ’ as '; lowered, not casefolded: that makes "ß" "ss", and "weiß" no
    # longer German.
    words = _WORD.findall(youth_words_text(message).replace("\u2019", "'"))
    german = sum(word in _GERMAN for word in words) + 2 * sum(
        any(ch in word for ch in "äöüß") for word in words
    )
    english = sum(word in _ENGLISH for word in words) + _english_i(words)
    if german == english:
        return None
    return "de" if german > english else "en"
