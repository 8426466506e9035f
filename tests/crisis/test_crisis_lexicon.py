from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.crisis import CrisisDetector, LexiconError

GOOD_RULE = '''
[meta]
language = "de"

[[rule]]
id = "de.suicide.001"
category = "suicide"
severity = "high"
patterns = ["ich will sterben"]
'''


def write(tmp_path: Path, text: str, name: str = "de.toml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_minimal_lexicon_loads(tmp_path: Path) -> None:
    detector = CrisisDetector.from_directory(write(tmp_path, GOOD_RULE))
    assert detector.assess("Ich will sterben").rules == ("de.suicide.001",)


@pytest.mark.parametrize(("broken", "rule_id", "words"), [
    (GOOD_RULE.replace('"suicide"\n', '"suizid"\n'), "de.suicide.001", "category"),
    (GOOD_RULE.replace('"high"', '"urgent"'), "de.suicide.001", "severity"),
    (GOOD_RULE.replace('["ich will sterben"]', '["ich (will sterben"]'), "de.suicide.001",
     "parentheses"),
    (GOOD_RULE.replace('["ich will sterben"]', '["~ sterben"]'), "de.suicide.001", "gap"),
    (GOOD_RULE.replace('["ich will sterben"]', '["st* ben"]'), "de.suicide.001", "stem"),
    (GOOD_RULE.replace('["ich will sterben"]', '[]'), "de.suicide.001", "empty"),
    (GOOD_RULE.replace('severity = "high"', 'severity = "high"\nseverty = "x"'),
     "de.suicide.001", "unknown key"),
    (GOOD_RULE.replace('"de.suicide.001"', '"de.abuse.001"'), "de.abuse.001", "category"),
    (GOOD_RULE.replace('"de.suicide.001"', '"suicide-1"'), "suicide-1", "id must"),
    (GOOD_RULE + GOOD_RULE.split("[meta]")[1].split("\n", 3)[3], "de.suicide.001",
     "already used"),
])
def test_bad_rule_names_file_and_rule(tmp_path: Path, broken: str, rule_id: str,
                                      words: str) -> None:
    path = write(tmp_path, broken)
    with pytest.raises(LexiconError) as info:
        CrisisDetector.from_directory(path)
    message = str(info.value)
    assert "de.toml" in message
    assert rule_id in message
    assert words in message


def test_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="not valid TOML"):
        CrisisDetector.from_directory(write(tmp_path, "[meta\nlanguage="))


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="not found"):
        CrisisDetector.from_directory(tmp_path / "nope")


def test_directory_without_rules(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="no \\[\\[rule\\]\\]"):
        CrisisDetector.from_directory(write(tmp_path, '[meta]\nlanguage = "de"\n'))


def test_bad_emoji_entry(tmp_path: Path) -> None:
    write(tmp_path, GOOD_RULE)
    write(tmp_path, '[meta]\nlanguage = "xx"\n[emoji]\n"💊💊" = "pill"\n', "emoji.toml")
    with pytest.raises(LexiconError, match=r"emoji\.toml"):
        CrisisDetector.from_directory(tmp_path)


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD_RULE, "a.toml")
    write(tmp_path, GOOD_RULE, "b.toml")
    with pytest.raises(LexiconError, match=r"already used in .*a\.toml"):
        CrisisDetector.from_directory(tmp_path)


def test_emoji_usable_in_patterns(tmp_path: Path) -> None:
    write(tmp_path, GOOD_RULE.replace('["ich will sterben"]', '["will ⚰️"]'))
    write(tmp_path, '[meta]\nlanguage = "xx"\n[emoji]\n"⚰️" = "coffin"\n', "emoji.toml")
    assert CrisisDetector.from_directory(tmp_path).assess("ich will ⚰").flag


def test_an_office_lexicon_without_a_shipped_language_is_refused_by_the_bot(
    tmp_path: Path,
) -> None:
    """An office that copied de.toml (and the emoji it needs) to edit it (`[crisis]
    lexicon_dir`) lost the English rules without a word: every message is checked against all
    languages, and an English "i want to kill myself" then reached the model alone. The
    bot refuses such a directory and names what to copy; one with every language loads."""
    import shutil

    from counsel_bot.core.crisis import default_lexicon_dir
    from counsel_bot.runtime.crisis_detector import load_detector

    for name in ("de.toml", "emoji.toml"):
        shutil.copy(default_lexicon_dir() / name, tmp_path / name)
    with pytest.raises(LexiconError) as refused:
        load_detector(tmp_path, None)
    assert "en.toml" in str(refused.value)
    shutil.copy(default_lexicon_dir() / "en.toml", tmp_path / "en.toml")
    assert load_detector(tmp_path, None).assess("i want to kill myself").flag
