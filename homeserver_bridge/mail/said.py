"""What the office said in a thread, to tell its words quoted in a youth's answer from the
youth's own words written inside the quote. Pure.

Many answer inside the mail they answer, line by line, and Apple Mail, iOS and Gmail keep
what is typed there in the quote ("> "): left out with the quote, a youth's crisis words
written so reached no crisis check. A quoted line is the office's if each run of three of
its words (fewer in a shorter line) is one the office wrote: mail programs wrap a quote
anew, so a line is a run of the office's words, not one of its lines. Linear in the
words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_RUN = 3
_QUOTE_MARKS = "> \t"
# Of the office's mails in a thread, what is kept to be recognised: the newest, which the
# youth answers (a whole thread in one quote is longer, and its older part is read as the
# youth's only if it is no longer kept).
MAX_SAID_CHARS = 64 * 1024


def _words(text: str) -> list[str]:
    return text.casefold().split()


@dataclass(frozen=True)
class Said:
    """The runs of words the office wrote."""

    runs: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, texts: Iterable[str]) -> Said:
        runs: set[tuple[str, ...]] = set()
        for text in texts:
            words = _words(text)
            for size in range(1, _RUN + 1):
                runs.update(tuple(words[i:i + size]) for i in range(len(words) - size + 1))
        return cls(frozenset(runs))

    def wrote(self, quoted: str) -> bool:
        """Whether the quoted line (its "> " marks and all) holds only the office's words."""
        words = _words(quoted.lstrip(_QUOTE_MARKS))
        if not words:
            return True
        size = min(_RUN, len(words))
        return all(tuple(words[i:i + size]) in self.runs
                   for i in range(len(words) - size + 1))


    def unsaid(self, text: str) -> list[str]:
        """The lines of `text` (a mail of the office's, as quoted) that hold words the
        office did not write there: the youth's, written inside it."""
        return [line for line in text.split("\n") if not self.wrote(line)]


def kept_said(before: str, text: str) -> str:
    """The office's words kept for a thread: those `before` and the newest, `text`, at
    most `MAX_SAID_CHARS` of the newest."""
    joined = f"{before}\n\n{text}" if before else text
    return joined[-MAX_SAID_CHARS:]
