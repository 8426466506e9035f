from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core.crisis.fuzzy import within_one_edit
from counsel_bot.core.crisis.normalise import Normaliser

N = Normaliser({"💊": "pill", "⚰": "coffin", "🔪": "knife"})


@pytest.mark.parametrize(("raw", "expected"), [
    ("Ich WILL nicht mehr", "ich wil nicht mehr"),
    ("möchte", "moechte"), ("moechte", "moechte"), ("Straße", "strase"), ("strasse", "strase"),
    ("Übel", "uebel"), ("ueBEL", "uebel"),
    ("st3rb3n", "sterben"), ("k1ll", "kil"), ("$uizid", "suizid"), ("r@ped", "raped"),
    ("4ever", "aever"), ("116 111", "116 111"), ("0800 111 0 111", "0800 111 0 111"),
    ("s.u.i.z.i.d", "suizid"), ("s u i z i d", "suizid"), ("s-u-i-z-i-d", "suizid"),
    ("selbst-mord", "selbstmord"), ("i c u t myself", "i cut myself"),
    # spaced letters, wider gaps between the words
    ("i c h   b r i n g   m i c h   u m", "ich bring mich um"),
    ("I  w a n t  t o  d i e", "i want to die"), ("1  2  3", "123"),
    ("s e l b s t   m o r d", "selbstmord"), ("a b s c h i e d s   b r i e f", "abschiedsbrief"),
    ("nicht mehr lebeeeen", "nicht mehr leben"), ("schläägt", "schlaegt"),
    ("st\u200berben", "sterben"), ("\u202eabc\u202c", "abc"), ("ster\u00adben", "sterben"),
    ("Ⅼeben", "leben"), ("ｗｉｌｌ", "wil"), ("сука", "cyka"),
    ("ich 💊💊", "ich emojipil emojipil"), ("will ⚰️", "wil emojicofin"),
    ("i want to d!e", "i want to die"), ("nein!!! hilfe", "nein . hilfe"),
    ("ich will... nicht", "ich wil nicht"), ("", ""), ("   ", ""), ("😀😀", ""),
    # a word or two per line is one sentence; lines of prose stay apart
    ("ich\nwill\nsterben", "ich wil sterben"), ("i want\nto\ndie", "i want to die"),
    ("mir geht es schlecht\nich will schlafen", "mir geht es schlecht . ich wil schlafen"),
])
def test_normalise_examples(raw: str, expected: str) -> None:
    assert N.normalise(raw) == expected


@pytest.mark.parametrize(("a", "b", "close"), [
    ("suizid", "suzid", True), ("suizid", "siuzid", True), ("suizid", "suizit", True),
    ("suizid", "suizidd", True), ("suizid", "sizud", False), ("abc", "bca", False),
])
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert within_one_edit(a, b) is close
    assert within_one_edit(b, a) is close


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_normalise_never_crashes_and_is_idempotent(text: str) -> None:
    once = N.normalise(text)
    assert N.normalise(once) == once
    assert once == once.strip()
    assert all(ch.isascii() for ch in once)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("aäoöuüßs13405$@7.-_ *!?,\u200b\u202e💊⚰️")))
def test_normalise_idempotent_on_tricky_alphabet(text: str) -> None:
    once = N.normalise(text)
    assert N.normalise(once) == once
