"""The entry page says the calls are free only for the helplines it knows to be free.

"Dann ruf an. Die Anrufe sind kostenlos." stood above whatever helplines an office
configured (`[[entry_page.emergency_numbers]]`): a local crisis line on an ordinary number,
or one abroad, was promised free to a youth with no credit left. The German lines the page
lists by default are free (their notes say so too); an office's own say what their notes
say. The real renderer and configuration.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from homeserver_bridge.entry_page.texts import texts_for
from tests.entry_page.test_configured_helplines import VIENNA, _page


@pytest.mark.parametrize("lang", ["de", "en"])
def test_configured_helplines_are_not_promised_free(tmp_path: Path, lang: str) -> None:
    page = _page(VIENNA, tmp_path, lang)
    texts = texts_for(lang)  # type: ignore[arg-type]
    assert texts.emergency_lead not in page
    assert ("Anrufe sind kostenlos" not in page) if lang == "de" \
        else ("calls are free" not in page)
    assert ("Dann ruf an." if lang == "de" else "Then call.") in page


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_default_german_lines_are_free(tmp_path: Path, lang: str) -> None:
    page = _page({}, tmp_path, lang)
    assert texts_for(lang).emergency_lead in page  # type: ignore[arg-type]
