"""The detector's command-line interfaces, exactly as other tools call them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COUNSEL = [sys.executable, "-m", "counsel_bot.cli"]
DATA = Path(__file__).resolve().parent / "data"


def test_check_writes_one_json_object_per_line() -> None:
    messages = "ich will nicht mehr leben\nich lach mich tot 😂\n\u202eodd \u200bunicode\n"
    result = subprocess.run(
        [*COUNSEL, "crisis", "check"], input=messages.encode(), capture_output=True,
        timeout=60, check=True,
    )
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 3
    answers = [json.loads(line) for line in lines]
    for answer in answers:
        # The interface other tools read; the model adds its score and nearest examples.
        assert set(answer) == {"flag", "category", "severity", "rules", "score", "nearest"}
        assert 0.0 <= answer["score"] <= 1.0
    assert answers[0]["flag"] is True
    assert answers[0]["category"] == "suicide"
    assert answers[0]["rules"]
    assert answers[0]["nearest"]  # a flag is explained by labelled examples' ids
    assert answers[1]["flag"] is False
    assert answers[1]["nearest"] == []
    assert answers[2]["flag"] is False


def test_check_rules_only_keeps_the_old_answer() -> None:
    result = subprocess.run(
        [*COUNSEL, "crisis", "check", "--rules-only"], input=b"ich will sterben\n",
        capture_output=True, timeout=60, check=True,
    )
    [answer] = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert set(answer) == {"flag", "category", "severity", "rules"}
    assert answer["flag"] is True


def test_check_answers_hostile_input_in_bounded_time() -> None:
    """64 KB lines, binary noise, emoji only, RTL overrides, zero-width runs: one answer
    each, in order, no crash (the model reads at most MAX_READ_CHARS of a line, at its two ends)."""
    import random

    noise = "".join(chr(random.Random(7).randrange(0x20, 0x2FFF)) for _ in range(4000))
    lines = ["x" * 65536, noise, "😭💊💊🌉", "\u202eneben leben\u202c", "\u200b" * 5000 + "hi",
             "ok"]
    result = subprocess.run(
        [*COUNSEL, "crisis", "check"], input=("\n".join(lines) + "\n").encode(),
        capture_output=True, timeout=120, check=True,
    )
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == len(lines)
    assert all(isinstance(a["flag"], bool) for a in answers)


def test_eval_prints_recall_precision_and_false_flags() -> None:
    result = subprocess.run(
        [*COUNSEL, "crisis", "eval", str(DATA / "crisis_heldout.jsonl")],
        capture_output=True, text=True, timeout=60, check=True,
    )
    report = result.stdout.lower()
    for word in ("recall", "precision", "false", "idiom", "negated", "de", "en"):
        assert word in report


def test_eval_of_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*COUNSEL, "crisis", "eval", str(tmp_path / "missing.jsonl")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_a_locked_database_is_one_clear_line(tmp_path: Path) -> None:
    """A second process holding the bot's database: the command says so and exits non-zero
    (the bot acts on nothing it could not write first, so nothing is lost)."""
    import sqlite3

    from e2e.vault import KdfParams, Vault
    from homeserver_bridge.paths import write_private

    data = tmp_path / "data"
    (data / "bot").mkdir(parents=True)
    write_private(data / "vault.passphrase", "a passphrase for the test")
    # The database's own vault: a database without one is refused before it is opened.
    Vault.create(data / "bot" / "vault.json", "a passphrase for the test",
                 KdfParams(time_cost=1, memory_kib=8, parallelism=1))
    config = data / "counsel.toml"
    config.write_text('[vault]\npassphrase_env = "COUNSEL_TEST_NONE"\n'
                      'passphrase_file = "vault.passphrase"\n')
    holder = sqlite3.connect(data / "bot" / "counsel.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = subprocess.run(
            [*COUNSEL, "retention", "--dry-run", "--data", str(data), "--config", str(config)],
            capture_output=True, text=True, timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "locked" in result.stderr or "database" in result.stderr


def test_check_with_the_configuration_judges_with_the_office_s_own_lexicons(
    tmp_path: Path,
) -> None:
    """An office with its own lexicons ([crisis] lexicon_dir) adds the words its youths
    use. `counsel crisis check` always judged with the shipped ones, whatever the bot
    runs: a reviewer trying the office's new rule saw it not flag (or a deleted rule
    still flag) and drew the wrong conclusion about what reaches the staff room. Given
    the configuration, it judges as the bot does; --lexicons still wins."""
    import shutil

    lexicons = tmp_path / "lexicons"
    shutil.copytree(Path(__file__).resolve().parents[1] / "config" / "crisis", lexicons,
                    ignore=shutil.ignore_patterns("model"))
    own = lexicons / "de.toml"
    own.write_text(own.read_text(encoding="utf-8") + (
        '\n[[rule]]\nid = "de.suicide.900"\ncategory = "suicide"\nseverity = "high"\n'
        'note = "Regional: so sagt man es hier"\npatterns = ["ich geh in die donau"]\n'),
        encoding="utf-8")
    config = tmp_path / "counsel.toml"
    config.write_text('[crisis]\nlexicon_dir = "lexicons"\nmodel = false\n')

    def check(*args: str) -> dict[str, object]:
        result = subprocess.run(
            [*COUNSEL, "crisis", "check", *args], input=b"ich geh in die donau heute\n",
            capture_output=True, timeout=60, check=True)
        [answer] = [json.loads(line) for line in result.stdout.decode().splitlines()]
        return dict(answer)

    answer = check("--config", str(config))
    assert answer["flag"] is True
    assert answer["rules"] == ["de.suicide.900"]
    assert "score" not in answer  # [crisis] model = false: the rules alone, as the bot
    shipped = Path(__file__).resolve().parents[1] / "config" / "crisis"
    assert check("--config", str(config), "--lexicons", str(shipped))["flag"] is False

