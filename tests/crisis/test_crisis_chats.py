"""Replaying whole chats as the bot judges them (pure logic; a fake detector)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from counsel_bot.core.crisis import NO_FLAG, Assessment, EvalDataError, run_chat_eval
from counsel_bot.core.crisis.chat_evaluation import evaluate_chats
from counsel_bot.core.crisis.chats import read_chats, training_examples


class WordDetector:
    """Flags a text holding both "ich will" and "sterben"; counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        self.asked += texts
        return [Assessment(True, "suicide", "high", ("r",)) if "ich will" in t and "sterben" in t
                else NO_FLAG for t in texts]


def chat(id_: str, turns: list[tuple[str, str]], label: str = "none",
         first: int | None = None) -> dict[str, object]:
    return {"id": id_, "lang": "de", "label": label,
            "category": "suicide" if label == "crisis" else None,
            "turns": [{"role": r, "text": t} for r, t in turns], "first_crisis_turn": first}


def write(tmp_path: Path, chats: list[dict[str, object]]) -> Path:
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in chats), encoding="utf-8")
    return path


def test_only_youth_turns_are_read_and_the_crisis_turn_is_mapped(tmp_path: Path) -> None:
    path = write(tmp_path, [chat("c1", [("youth", "hi"), ("counsellor", "hallo, ich will dir "
                                         "helfen, niemand muss sterben"), ("youth", "ok"),
                                        ("youth", "ich will sterben")], "crisis", 3)])
    [one] = read_chats(path)
    assert one.youth == ("hi", "ok", "ich will sterben")
    assert one.after_reply == (True, True, False)
    assert one.first_crisis == 2
    detector = WordDetector()
    report = evaluate_chats(detector, [one])
    assert not any("helfen" in t for t in detector.asked)
    assert (report.overall.crisis, report.overall.caught, report.overall.by_the_turn) == (1, 1, 1)


def test_a_burst_of_short_lines_is_judged_together_but_not_across_an_answer(
        tmp_path: Path) -> None:
    burst = chat("b", [("youth", "ich will"), ("youth", "sterben"), ("youth", "x"),
                       ("youth", "y")], "crisis", 1)
    apart = chat("a", [("youth", "ich will"), ("counsellor", "?"), ("youth", "nicht"),
                       ("counsellor", "?"), ("youth", "sterben, nur schlafen")])
    report = evaluate_chats(WordDetector(), read_chats(write(tmp_path, [burst, apart])))
    assert report.overall.caught == 1
    # 10 s + 50 s + 50 s: "ich will" has left the 60 s window when "sterben" comes.
    assert report.overall.alerted == 0
    assert report.alerted_harmless == ()


def test_counts_what_a_counsellor_lives_through(tmp_path: Path) -> None:
    # Longer than a short line, so the burst window does not carry it to "egal".
    early = chat("early", [("youth", "ich will sterben, das sag ich jetzt einfach mal so"),
                           ("counsellor", "?"),
                           ("youth", "egal"), ("youth", "weg")], "crisis", 2)
    missed = chat("missed", [("youth", "hi"), ("youth", "tabletten"), ("youth", "x"),
                             ("youth", "y")], "crisis", 1)
    noisy = chat("noisy", [("youth", "ich will sterben lol"), ("youth", "mathe")])
    quiet = chat("quiet", [("youth", "hi"), ("youth", "bis morgen")])
    report = evaluate_chats(WordDetector(),
                            read_chats(write(tmp_path, [early, missed, noisy, quiet])))
    c = report.overall
    assert (c.crisis, c.caught, c.by_the_turn, c.early) == (2, 0, 1, 1)
    assert (c.harmless, c.alerted, c.alerts) == (2, 1, 1)
    # A rule at high severity raised it: that youth was thanked for telling.
    assert c.thanked == 1
    # "mathe" is judged with its burst ("ich will sterben lol mathe"): flagged, no new alert.
    assert (c.harmless_turns, c.harmless_turns_flagged) == (4, 2)
    assert report.missed == ("missed",)
    assert report.alerted_harmless == ("noisy",)


def test_a_chat_the_model_alerted_first_is_not_thanked(tmp_path: Path) -> None:
    class ModelFirst(WordDetector):
        def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
            return [Assessment(True, "suicide", "medium", ("model.suicide",), 0.5)
                    if t.startswith("alles verschenkt") else a
                    for t, a in zip(texts, super().assess_many(texts), strict=True)]

    offered = chat("offered", [("youth", "alles verschenkt, wegen umzug"), ("youth", "ok")])
    later = chat("later", [("youth", "alles verschenkt, wegen umzug"), ("counsellor", "?"),
                           ("youth", "ich will sterben, wenn ich an mathe denke")])
    c = evaluate_chats(ModelFirst(), read_chats(write(tmp_path, [offered, later]))).overall
    # "later" says it in words afterwards: one text per chat, and it was the offer.
    assert (c.alerted, c.alerts, c.thanked) == (2, 3, 0)


@pytest.mark.parametrize(("line", "why"), [
    ('{"id": "x", "lang": "de", "label": "none"}', "needs id, lang, label and turns"),
    ('{"id": "x", "lang": "de", "label": "maybe", "turns": []}', "label must be"),
    ('{"id": "x", "lang": "de", "label": "none", "turns": [{"role": "mum", "text": "a"}]}',
     "turn 0 needs a role"),
    ('{"id": "x", "lang": "de", "label": "crisis", "first_crisis_turn": 0, '
     '"turns": [{"role": "counsellor", "text": "a"}]}', "index of a youth turn"),
    ("{not json", "not JSON"),
])
def test_a_malformed_chat_file_names_the_line(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('\n{"id": "ok", "lang": "de", "label": "none", "turns": []}\n' + line + "\n",
                    encoding="utf-8")
    with pytest.raises(EvalDataError, match=why) as caught:
        read_chats(path)
    assert ":3" in str(caught.value) or "line 3" in str(caught.value)


def test_run_chat_eval_prints_the_table_without_message_text(tmp_path: Path) -> None:
    path = write(tmp_path, [chat("c1", [("youth", "ich will sterben CANARY")], "crisis", 0),
                            chat("c2", [("youth", "hallo CANARY")])])
    out = io.StringIO()
    assert run_chat_eval(WordDetector(), path, out) == 0
    text = out.getvalue()
    assert "overall" in text
    assert "missed crisis chats: none" in text
    assert "CANARY" not in text


def test_chats_give_harmless_turns_and_windows_from_the_crisis_turn_on(tmp_path: Path) -> None:
    harmless = chat("h", [("youth", "hi"), ("counsellor", "hallo"), ("youth", "night night"),
                          ("youth", "hi")])
    crisis = chat("c", [("youth", "hey"), ("youth", "ärmel lang"), ("counsellor", "?"),
                        ("youth", "schnitte"), ("youth", "frisch")], "crisis", 3)
    examples = training_examples(read_chats(write(tmp_path, [harmless, crisis])),
                                 known=["hey"])
    by_text = {ex.text: ex for ex in examples}
    # Alone: the harmless chat's turns once each; nothing of the crisis chat.
    assert {t for t, ex in by_text.items() if ex.id.startswith("h-t")} == {"hi", "night night"}
    assert not any(ex.id.startswith("c-t") for ex in examples)
    assert not by_text["hi night night"].crisis
    assert not by_text["hi night night hi"].crisis
    # The crisis chat: windows from its crisis turn on, none before (they may hold hints).
    assert by_text["hey ärmel lang schnitte"].crisis
    assert by_text["hey ärmel lang schnitte"].category == "suicide"
    assert by_text["ärmel lang schnitte frisch"].crisis
    assert "hey ärmel lang" not in by_text
    assert "hey" not in by_text  # known to the corpus already
    assert not any(ex.id.startswith("h-w") or ex.id.startswith("c-w")
                   for ex in training_examples(read_chats(write(tmp_path, [harmless, crisis])),
                                               windows=False))
