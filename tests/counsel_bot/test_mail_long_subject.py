"""On a phone many write everything into the subject line and leave the body empty. A
subject past 2000 characters was cut there, silently: crisis words after the cut reached
neither the counsellor nor the crisis check (past 8192 characters of the raw header, the
rest was not even decoded).

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.routing.model import CrisisStatus
from tests.support.mail_office import read_by_office, to_office

FILLER = "meine eltern streiten jeden tag und in der schule weiß keiner was los ist, "
CRISIS = "ehrlich gesagt will ich nicht mehr leben"


@pytest.mark.parametrize("repeats", [40, 200], ids=["3000 characters", "15000 characters"])
async def test_crisis_words_at_the_end_of_a_long_subject_are_read(
    tmp_path: Path, repeats: int,
) -> None:
    message = to_office(FILLER * repeats + CRISIS, "<subject@youth.example>", "")
    crisis, read = await read_by_office(tmp_path, message)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert CRISIS in read, "the counsellor never sees the end"
