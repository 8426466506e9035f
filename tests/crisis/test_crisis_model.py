"""The semantic half of the detector: its pure parts with a stand-in encoder, its training,
and the shipped head with the real encoder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.core.crisis import (
    NO_FLAG,
    Assessment,
    CombinedDetector,
    CrisisDetector,
    ModelError,
    default_lexicon_dir,
    default_model_path,
    semantic,
)
from counsel_bot.core.crisis.chats import CHAT_KIND
from counsel_bot.core.crisis.combined import combine
from counsel_bot.core.crisis.evaluation import Example, pool
from counsel_bot.core.crisis.ngrams import char_ngrams, idf_weights, lexical_features, weigh
from counsel_bot.core.crisis.semantic import (
    PIECE_CHARS,
    Head,
    SemanticModel,
    SemanticVerdict,
    neighbourhood,
    pieces,
)
from counsel_bot.core.crisis.training import (
    CHAT_WEIGHT,
    EmbeddingCache,
    held_out_by,
    train,
    with_odd_characters,
)
from counsel_bot.runtime.crisis_detector import load_detector
from tests.crisis.fake_encoder import WordHashEncoder

CRISIS = ["ich will mich umbringen heute", "ich schneide mich jeden abend", "i want to die",
          "keiner wird mich vermissen wenn ich weg bin", "ich hab tabletten gesammelt",
          "i am going to end it tonight", "er schlägt mich wenn er trinkt",
          "ich ritze mich wieder", "ich will nicht mehr leben", "goodbye everyone forever"]
ORDINARY = ["hallo wie geht es dir", "mathe war heute schwer", "ich hab stress mit mama",
            "wann habt ihr offen", "lol der film war so gut", "danke für die hilfe",
            "ich lach mich tot", "this homework is killing me", "ok bis morgen",
            "mein hamster heißt keks"]


def example(n: int, text: str, crisis: bool, kind: str = "") -> Example:
    return Example(f"x-{n:03d}", "de", text, crisis, "suicide" if crisis else None,
                   kind or ("explicit" if crisis else "plain"), "x", "s")


def small_corpus() -> list[Example]:
    rows = [example(i, t, True) for i, t in enumerate(CRISIS)]
    rows += [example(100 + i, t, False, "idiom" if i >= 6 else "plain")
             for i, t in enumerate(ORDINARY)]
    return rows


@pytest.fixture(scope="module")
def trained(detector: CrisisDetector) -> tuple[Head, EmbeddingCache]:
    cache = EmbeddingCache(WordHashEncoder())
    corpus = small_corpus()
    head, _ = train(corpus, corpus, detector, cache, target_recall=1.0)
    return head, cache


def test_short_messages_are_one_piece_and_long_ones_are_cut_at_sentences() -> None:
    assert pieces("kurz") == ["kurz"]
    letter = ("Ich schreibe euch, weil es mir nicht gut geht. " * 30).strip()
    cut = pieces(letter)
    assert len(cut) > 1
    assert all(len(p) <= PIECE_CHARS for p in cut)
    assert all(p.endswith(".") for p in cut)


@given(st.text(max_size=20_000))
def test_pieces_are_bounded_whatever_comes(text: str) -> None:
    cut = pieces(text)
    assert len(cut) >= 1
    assert sum(map(len, cut)) <= semantic.MAX_READ_CHARS
    assert all(len(p) <= max(PIECE_CHARS, 400) for p in cut)


FILLER = ("Heute war Schule wieder lang, in Mathe hatten wir eine Arbeit und danach war ich "
          "mit Lea in der Stadt, wir haben Eis gegessen. ")


def test_a_long_letter_is_read_to_its_last_sentence() -> None:
    """A youth's diary pasted into one message (Matrix takes 64 KB) or a long mail (32 KB)
    tells what matters at its end. The model read only its first 48 pieces (11,500
    characters), so a crisis told after them reached it never."""
    last = "Und morgen bin ich nicht mehr da."
    for repeat in (100, 500):
        cut = pieces(FILLER * repeat + last)
        assert any(last in p for p in cut), repeat


def test_a_text_longer_than_the_model_reads_is_read_at_both_ends() -> None:
    first, last = "Ich fange mal von vorne an.", "Und morgen bin ich nicht mehr da."
    cut = pieces(first + " " + FILLER * 1_000 + last)
    assert first in cut[0]
    assert last in cut[-1]
    assert sum(map(len, cut)) <= semantic.MAX_READ_CHARS


def test_the_shipped_model_reads_a_crisis_at_the_end_of_a_long_letter(
    combined: CombinedDetector,
) -> None:
    grooming = ("he said if i send him more pics he buys me the new phone and i shouldnt "
                "tell my mum")
    letter = FILLER * 200 + grooming
    assert not combined.rules.assess(letter).flag
    assert combined.assess(letter).flag


def test_ngrams_mark_word_edges_and_weigh_to_unit_length() -> None:
    grams = char_ngrams("nicht mehr")
    assert grams[" n"] == 1
    assert grams["ht "] == 1
    assert "t m" not in grams  # n-grams stay inside a word
    idf = idf_weights([grams, char_ngrams("nicht")], min_df=2)
    weighed = weigh(grams, idf)
    assert set(weighed) <= set(idf)
    assert abs(sum(v * v for v in weighed.values()) - 1.0) < 1e-9
    assert weigh(char_ngrams("xyz"), idf) == {}


def test_words_in_a_negations_reach_are_marked_and_the_reach_ends() -> None:
    denied = lexical_features("ich wil mich nicht umbringen . aber ich hab angst")
    meant = lexical_features("ich wil mich umbringen")
    assert denied["w:~umbringen"] == 1
    assert "w:umbringen" not in denied
    assert meant["w:umbringen"] == 1
    assert "w:~umbringen" not in meant
    assert denied["w:angst"] == 1  # "aber" ends the negation's reach
    assert denied["b:nicht_umbringen"] == 1
    assert "b:umbringen_aber" not in denied  # pairs do not cross a sentence turn
    assert denied[" umb"] == 1  # the character n-grams are still there
    far = lexical_features("not that i would ever ever ever want to die")
    assert far["w:die"] == 1  # four words on, the negation no longer reaches


def test_neighbourhood_reads_each_group() -> None:
    examples = np.eye(3, dtype=np.float32)
    groups = np.array([0, 1, 2], dtype=np.int8)
    near = neighbourhood(np.array([[1.0, 0.0, 0.0]], dtype=np.float32), examples, groups)
    assert near.shape == (1, 6)
    assert near[0, 0] > 0
    assert near[0, 2] == 0
    assert near[0, 4] == 0


def test_a_trained_head_separates_what_it_learnt(detector: CrisisDetector,
                                                 trained: tuple[Head, EmbeddingCache]) -> None:
    head, cache = trained
    model = SemanticModel(cache, head, detector.normalise, detector.cues)
    both = CombinedDetector(detector, model)
    # The threshold was chosen for recall 1.0 on these very messages (with the rules).
    assert all(a.flag for a in both.assess_many(CRISIS))
    assert sum(a.flag for a in both.assess_many(ORDINARY)) <= 2
    verdicts = model.judge_many(CRISIS + ORDINARY)
    flagged = [v for v in verdicts if v.score >= head.threshold]
    assert all(v.nearest and all(i.startswith("x-") for i in v.nearest) for v in flagged)


def test_leaving_each_writer_out_judges_every_message_once_and_pools(
        detector: CrisisDetector) -> None:
    corpus = [replace(e, source="a" if n % 2 else "b") for n, e in enumerate(small_corpus())]
    results = held_out_by(lambda e: e.source, corpus, detector,
                          EmbeddingCache(WordHashEncoder()), target_recall=1.0)
    assert set(results) == {"a", "b"}
    overall, kinds = pool(results.values())
    assert overall.n == len(corpus)
    assert overall.tp + overall.fn == len(CRISIS)
    assert kinds["idiom"].fp + kinds["idiom"].tn == 4
    assert sum(c.n for c in kinds.values()) == len(corpus)


def test_examples_that_train_every_fold_are_never_scored(detector: CrisisDetector) -> None:
    corpus = [replace(e, source="a" if n % 2 else "b") for n, e in enumerate(small_corpus())]
    extra = [replace(e, id=f"chat-{n}", source="chats") for n, e in enumerate(corpus[:4])]
    results = held_out_by(lambda e: e.source, corpus, detector,
                          EmbeddingCache(WordHashEncoder()), target_recall=1.0, extra=extra)
    assert set(results) == {"a", "b"}
    assert pool(results.values())[0].n == len(corpus)


def test_the_head_survives_saving_and_refuses_another_encoder(
        tmp_path: Path, detector: CrisisDetector, trained: tuple[Head, EmbeddingCache]) -> None:
    head, cache = trained
    path = tmp_path / "head.npz"
    head.save(path)
    loaded = Head.load(path)
    assert loaded.example_ids == head.example_ids
    assert loaded.threshold == pytest.approx(head.threshold)
    model = SemanticModel(cache, loaded, detector.normalise, detector.cues)
    again = SemanticModel(cache, head, detector.normalise, detector.cues)
    assert [v.score for v in model.judge_many(CRISIS)] == pytest.approx(
        [v.score for v in again.judge_many(CRISIS)], abs=1e-3)
    with pytest.raises(ModelError, match="trained on word-hash-test"):
        SemanticModel(replace_name(cache), loaded, detector.normalise, detector.cues)


def replace_name(cache: EmbeddingCache) -> EmbeddingCache:
    other = EmbeddingCache(WordHashEncoder())
    other.name = "another-encoder"
    return other


def test_a_broken_head_file_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "head.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="cannot be read"):
        Head.load(broken)
    with pytest.raises(ModelError, match="cannot be read"):
        Head.load(tmp_path / "missing.npz")


def test_odd_character_copies_carry_both_labels() -> None:
    corpus = small_corpus()
    copies = with_odd_characters(corpus)
    assert {ex.crisis for _, ex in copies} == {True, False}
    for original, copy in copies:
        assert copy.crisis == corpus[original].crisis
        assert copy.text != corpus[original].text
        assert copy.id == corpus[original].id + "~odd"


HEAD = Head("e", np.zeros(1, np.float32), 0.0, (), np.zeros(0, np.float32),
            np.zeros(0, np.float32), 0.0, np.zeros((1, 1), np.float32),
            np.zeros(1, np.float32), ("suicide",), 0.4, 0.9, np.zeros((0, 1), np.float16),
            (), np.zeros(0, np.int8))
RULE_HIGH = Assessment(True, "suicide", "high", ("de.suicide.001",))
RULE_LOW = Assessment(True, "self_harm", "low", ("de.self_harm.002",))


@pytest.mark.parametrize(("ruled", "score", "flag", "reason"), [
    (RULE_HIGH, 0.01, True, "de.suicide.001"),  # a reviewed high rule is never argued away
    (RULE_LOW, 0.10, False, None),  # "früher hab ich mich geritzt": the model decides
    (RULE_LOW, 0.50, True, "de.self_harm.002"),  # the rule's own ids explain the flag
    (NO_FLAG, 0.50, True, "model.abuse"),
    (NO_FLAG, 0.39, False, None),
])
def test_rules_and_model_combine_as_documented(ruled: Assessment, score: float, flag: bool,
                                               reason: str | None) -> None:
    verdict = SemanticVerdict(score, "abuse", ("w1-0001",))
    result = combine(ruled, verdict, HEAD)
    assert result.flag is flag
    assert result.score == score
    if reason:
        assert result.rules[0] == reason
        assert result.nearest == (("w1-0001",) if score >= HEAD.threshold else ())
    if reason == "model.abuse":
        assert (result.category, result.severity) == ("abuse", "medium")
    assert combine(NO_FLAG, replace(verdict, score=0.95), HEAD).severity == "high"


def test_the_shipped_model_reads_meaning_the_rules_miss(combined: CombinedDetector) -> None:
    # Wording none of the lexicons has: indirect, preparation, grooming told plainly.
    for text in ("ich hab schon briefe an alle geschrieben",
                 "meine kleine schwester hat seit zwei tagen nichts gegessen und mama ist "
                 "nicht nach hause gekommen",
                 "he said if i send him more pics he buys me the new phone and i shouldnt "
                 "tell my mum"):
        assert not combined.rules.assess(text).flag
        assert combined.assess(text).flag, text
    for text in ("ich lach mich tot 😂", "hallo", "mathe bringt mich um lol"):
        assert not combined.assess(text).flag, text


def test_the_shipped_model_ignores_odd_characters(combined: CombinedDetector) -> None:
    for text in ("ha\u200bllo wie geht\u200bs", "\u202eok\u202c", "ｈａｌｌｏ"):
        assert not combined.assess(text).flag, text
    assert combined.assess("\u202eich will sterben\u202c").flag
    assert combined.assess("ich will st\u200berben").flag


def test_machine_tokens_are_not_read_as_leetspeak() -> None:
    from counsel_bot.core.crisis.semantic import without_machine_tokens

    for machine in ("C-1A2B3C4D", "a3f9c2d1", "@kim:counsel.localhost", "https://x.de/a1"):
        assert machine not in without_machine_tokens(f"!take {machine} bitte")
    for leet in ("5u1z1d", "r1tz3n", "t0d 1st b3ss3r", "1ch w1ll n1cht m3hr l3b3n"):
        assert without_machine_tokens(leet) == leet


def test_commands_and_codes_are_not_a_crisis(combined: CombinedDetector) -> None:
    for text in ("!take C-1A2B3C4D", "!duty on !capacity 3 !next",
                 "runde 1 nachricht 0 a3f9c2d1", "!close C-00FF12AB"):
        assert not combined.assess(text).flag, text


# Disclosures played down with laughter, small talk or "aber egal": the model scores some of
# them near 0 (an outside review found them when a rule flag could be overruled in longer
# messages); a reviewed rule that names the act must keep them in front of a person.
PLAYED_DOWN = (
    "haha ich bring mich heute nacht um 😂 aber egal",
    "haha ok also ich will mich halt umbringen, aber sonst alles gut bei mir 😂",
    "schule war ok, mathe war voll langweilig, aber ich bring mich am wochenende um, wie "
    "gehts dir so",
    "hey, quick question, i want to kill myself, who can i talk to here",
    "moin, kurze frage, mein vater schlägt mich, mit wem kann ich hier reden",
    "school was fine, had pizza for lunch, gonna kill myself tonight, anyway what's up",
    "ich will mich umbringen 😂😂😂😂😂",
    "ok, i'm gonna kill myself, haha, whatever.",
)


@pytest.mark.parametrize("text", PLAYED_DOWN)
def test_a_played_down_disclosure_is_flagged(combined: CombinedDetector, text: str) -> None:
    assert combined.assess(text).flag


_BOT_LIKE_LOAD = """
import asyncio, json
from threadpoolctl import threadpool_info
from counsel_bot.core.crisis import default_lexicon_dir, default_model_path
from counsel_bot.runtime.crisis_detector import load_detector

async def main():
    detector = await asyncio.to_thread(load_detector, default_lexicon_dir(),
                                       default_model_path())
    await asyncio.to_thread(detector.assess_many, ["hallo"])
    print(json.dumps([p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]))

asyncio.run(main())
"""


def test_a_process_that_loads_the_model_keeps_blas_to_one_thread() -> None:
    # Small products per message: a second BLAS thread beside a busy core doubled the time.
    # A process of its own, loading as the bot does (in a worker thread): how OpenBLAS takes
    # a thread limit depends on what the process did before, which a test suite's process
    # shares with every test that ran before this one.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}  # so that a one-core runner tests it too
    done = subprocess.run([sys.executable, "-c", _BOT_LIKE_LOAD], capture_output=True,
                          text=True, timeout=120, check=True, env=env)
    threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert threads
    assert set(threads) == {1}


def test_a_bot_started_again_in_the_same_process_reuses_the_loaded_encoder() -> None:
    # The weights take over a second to load; a restart in place should not pay it again.
    first = load_detector(default_lexicon_dir(), default_model_path())
    second = load_detector(default_lexicon_dir(), default_model_path())
    assert first.model is not None
    assert second.model is not None
    assert first.model is not second.model  # the head and lexicons are read anew
    assert first.model.encoder is second.model.encoder


def test_lines_from_chats_weigh_a_quarter_and_hard_negatives_twice(
        detector: CrisisDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    import counsel_bot.core.crisis.training as training

    weights: list[list[float]] = []
    real = training._sklearn()

    class Recording(real):  # type: ignore[misc, valid-type]
        def fit(self, x: object, y: object, sample_weight: np.ndarray | None = None,
                **kw: object) -> object:
            if sample_weight is not None:
                weights.append(list(sample_weight))
            return super().fit(x, y, sample_weight=sample_weight, **kw)

    monkeypatch.setattr(training, "_sklearn", lambda: Recording)
    corpus = [*small_corpus(), example(900, "night night", False, CHAT_KIND),
              example(901, "ok bis dann", False, CHAT_KIND)]
    training.fit_head(corpus, EmbeddingCache(WordHashEncoder()), detector)
    first = weights[0][:len(corpus)]  # the odd-character copies follow the originals
    assert first[-2:] == [CHAT_WEIGHT, CHAT_WEIGHT] == [0.25, 0.25]
    assert first[len(CRISIS) + 6] == 2.0  # an idiom
    assert first[0] == 1.0


def test_the_model_keeps_one_copy_of_the_example_vectors(
        detector: CrisisDetector, trained: tuple[Head, EmbeddingCache]) -> None:
    head, cache = trained
    model = SemanticModel(cache, head, detector.normalise, detector.cues)
    # The bot's RSS: one float32 matrix, the crisis rows a view of it, no float16 left.
    assert model.head.example_vectors.size == 0
    assert np.shares_memory(model._crisis_vectors, model._examples)
    assert model._examples.shape == head.example_vectors.shape
    assert set(model._crisis_ids) == {ex_id for ex_id, group in
                                      zip(head.example_ids, head.example_groups, strict=True)
                                      if group == 0}
