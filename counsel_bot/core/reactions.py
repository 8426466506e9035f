"""What a reaction (`m.reaction`) says. Pure.

A reaction's key is free text: most apps offer emoji, but any app that lets one type a
reaction (and every app through its developer tools) sends words as well. The key sits in
``m.relates_to``, which stays unencrypted in an encrypted room, as the homeserver must read
relations: whatever a youth writes there, the homeserver keeps in the clear. One emoji
(what apps offer) says little; anything more is words, read like a message (crisis check)
and, in a group's room, deleted (`conversation/groups.py`).
"""

from __future__ import annotations

import unicodedata

_ZWJ = "\u200d"
_KEYCAP = "\u20e3"
_VARIATION = frozenset({"\ufe0e", "\ufe0f"})
_KEYCAP_BASES = frozenset("0123456789#*")
# The longest emoji in use (a family or a couple with skin tones, joined by ZWJs) has 10
# code points; a subdivision flag (England) has 7.
_LONGEST = 16


def _regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _tag(ch: str) -> bool:
    return "\U000e0020" <= ch <= "\U000e007f"


def _symbol(ch: str) -> bool:
    # Emoji are symbols ("So"); skin-tone modifiers are "Sk" and follow one. An emoji newer
    # than Python's Unicode tables is unassigned to it: the emoji planes count whole.
    return unicodedata.category(ch) == "So" or "\U0001f000" <= ch <= "\U0001faff"


def _letter(ch: str) -> bool:
    # A letter or digit drawn as a symbol: circled, parenthesized, squared (Enclosed
    # Alphanumerics and their supplement, regional indicators among them), Braille. Apps
    # show such symbols side by side as the word they spell, ZWJs between them or not.
    return "\u2460" <= ch <= "\u24ff" or "\U0001f100" <= ch <= "\U0001f1ff" \
        or "\u2800" <= ch <= "\u28ff" \
        or any(c.isalnum() for c in unicodedata.normalize("NFKC", ch))


def _modifier(ch: str) -> bool:
    return "\U0001f3fb" <= ch <= "\U0001f3ff" or ch in _VARIATION or ch == _KEYCAP \
        or _tag(ch) or unicodedata.category(ch) in ("Mn", "Me")


def one_emoji(key: str) -> bool:
    """Whether ``key`` is one emoji as apps offer it (one grapheme cluster: 👍, 👍🏽, ❤️,
    a flag, a keycap, a family joined by ZWJs), not words, not two emoji. A lettered
    symbol (Ⓜ️, 🅰️) is one emoji alone; joined to others by ZWJs it is a letter of a word."""
    if not key or len(key) > _LONGEST:
        return False
    if len(key) == 2 and all(_regional(ch) for ch in key):
        return True  # a country flag: two regional indicators
    if key[0] in _KEYCAP_BASES:
        return key[1:] in (_KEYCAP, "\ufe0f" + _KEYCAP)
    parts = key.split(_ZWJ)
    if len(parts) > 1 and any(_letter(part[0]) for part in parts if part):
        return False  # Ⓣ‍Ⓞ‍Ⓓ: a word in letters drawn as symbols, not a ZWJ emoji
    for part in parts:
        if not part or not _symbol(part[0]) or not all(_modifier(ch) for ch in part[1:]):
            return False
    return True
