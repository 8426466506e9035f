"""Nicknames under which forum posts appear. Pure; the randomness is passed in.

The rules it keeps:
- A nickname is never handed out twice in one forum. A post is not linked to its author once
  approved (by design: readers must not be able to tell that two posts are one youth's), so
  the only way two youths never share a name is that no name is ever shared.
- Names stay short while a forum is small ("Fuchs 42"); the numbers grow a digit whenever
  half the names of the current length are taken, so a free name is always found in a few
  random draws and the draw never runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from counsel_bot.core.groups import NICKNAMES

# A random draw that failed this often (each fails at most half the time) is not worth
# repeating: the first free name in order is taken instead, so drawing always ends.
DRAWS = 32

RandBelow = Callable[[int], int]


def space(taken: int) -> tuple[int, int]:
    """The numbers to draw from, ``(lowest, how_many)``: two digits (10–99) at first, one
    digit more whenever the names of that length would be half used."""
    lowest = 10
    while len(NICKNAMES) * lowest * 9 < 2 * (taken + 1):
        lowest *= 10
    return lowest, lowest * 9


def draw(taken: Collection[str], randbelow: RandBelow) -> str:
    """A nickname not in ``taken`` (the names this forum has handed out)."""
    lowest, count = space(len(taken))
    size = len(NICKNAMES) * count
    for _ in range(DRAWS):
        name = _name(randbelow(size), lowest, count)
        if name not in taken:
            return name
    return next(name for name in (_name(i, lowest, count) for i in range(size))
                if name not in taken)


def _name(index: int, lowest: int, count: int) -> str:
    animal, number = divmod(index, count)
    return f"{NICKNAMES[animal]} {lowest + number}"
