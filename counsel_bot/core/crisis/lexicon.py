"""Lexicon files (``config/crisis/*.toml``): reading and validating their structure.

Every file may hold any of the sections below; all files of a directory are merged.
Patterns are checked later, when they are compiled (``matcher.py``), because they are
normalised with the emoji map merged from all files.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counsel_bot.core.crisis.errors import LexiconError
from counsel_bot.core.crisis.normalise import validate_emoji_key

# Order matters: on equal severity the earlier category is reported.
CATEGORIES = ("suicide", "child_danger", "sexual_abuse", "abuse", "violence_to_others",
              "self_harm")
SEVERITIES = ("high", "medium", "low")

_TOP_KEYS = {"meta", "emoji", "negation", "tense", "fuzzy", "rule", "idiom", "context"}
_RULE_KEYS = {"id", "category", "severity", "patterns", "negatable", "contextual", "note"}
_IDIOM_KEYS = {"id", "patterns", "note"}
_CONTEXT_KEYS = {"id", "patterns", "applies_to", "note"}
_NEGATION_KEYS = {"before", "after", "pseudo", "stops", "contrast", "window"}
_LANG = re.compile(r"[a-z]{2}")
_EMOJI_NAME = re.compile(r"[a-z]{2,20}")


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    severity: str
    patterns: tuple[str, ...]
    negatable: bool
    contextual: bool
    source: Path


@dataclass(frozen=True)
class Idiom:
    id: str
    patterns: tuple[str, ...]
    source: Path


@dataclass(frozen=True)
class ContextCue:
    id: str
    patterns: tuple[str, ...]
    applies_to: frozenset[str]
    source: Path


@dataclass(frozen=True)
class NegationWords:
    before: frozenset[str]
    after: frozenset[str]
    pseudo: frozenset[str]
    stops: frozenset[str]
    contrast: frozenset[str]
    window: int


@dataclass(frozen=True)
class Lexicon:
    rules: tuple[Rule, ...]
    idioms: tuple[Idiom, ...]
    contexts: tuple[ContextCue, ...]
    negation: NegationWords
    past: tuple[tuple[str, Path], ...]
    current: tuple[tuple[str, Path], ...]
    protected: frozenset[str]
    emoji: Mapping[str, str]


class _Builder:
    """Accumulates sections from several files; remembers ids to refuse duplicates."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.idioms: list[Idiom] = []
        self.contexts: list[ContextCue] = []
        self.neg: dict[str, set[str]] = {k: set() for k in _NEGATION_KEYS - {"window"}}
        self.window = 3
        self.past: list[tuple[str, Path]] = []
        self.current: list[tuple[str, Path]] = []
        self.protected: set[str] = set()
        self.emoji: dict[str, str] = {}
        self.ids: dict[str, Path] = {}

    def claim_id(self, path: Path, ident: str) -> None:
        if ident in self.ids:
            raise LexiconError(path, ident, f"id already used in {self.ids[ident]}")
        self.ids[ident] = path

    def build(self) -> Lexicon:
        n = self.neg
        negation = NegationWords(frozenset(n["before"]), frozenset(n["after"]),
                                 frozenset(n["pseudo"]), frozenset(n["stops"]),
                                 frozenset(n["contrast"]), self.window)
        return Lexicon(tuple(self.rules), tuple(self.idioms), tuple(self.contexts), negation,
                       tuple(self.past), tuple(self.current), frozenset(self.protected),
                       dict(self.emoji))


def _strings(path: Path, where: str, value: Any, key: str, *, allow_empty: bool = False,
             ) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(path, where, f'"{key}" must be a list of non-empty strings')
    if not value and not allow_empty:
        raise LexiconError(path, where, f'"{key}" must not be empty')
    return tuple(value)


def _check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise LexiconError(path, where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _entries(path: Path, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise LexiconError(path, key, f"use [[{key}]] tables")
    return value


def _ident(path: Path, entry: Mapping[str, Any], pattern: str, pos: int, kind: str) -> str:
    ident = entry.get("id")
    if not isinstance(ident, str) or not re.fullmatch(pattern, ident):
        shown = ident if isinstance(ident, str) else f"{kind} #{pos}"
        raise LexiconError(path, shown, f"id must look like {pattern!r} (e.g. 'de.suicide.007')")
    return ident


def _read_rules(path: Path, lang: str, data: Mapping[str, Any], out: _Builder) -> None:
    for pos, entry in enumerate(_entries(path, data, "rule"), start=1):
        ident = _ident(path, entry, rf"{lang}\.[a-z_]+\.\d{{3}}", pos, "rule")
        _check_keys(path, ident, entry, _RULE_KEYS)
        category, severity = entry.get("category"), entry.get("severity")
        if category not in CATEGORIES:
            raise LexiconError(path, ident, f"category must be one of {list(CATEGORIES)}")
        if ident.split(".")[1] != category:
            raise LexiconError(path, ident,
                               f"the id's middle part must be the category {category!r}")
        if severity not in SEVERITIES:
            raise LexiconError(path, ident, f"severity must be one of {list(SEVERITIES)}")
        flags = {k: entry.get(k, d) for k, d in (("negatable", True), ("contextual", False))}
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise LexiconError(path, ident, f'"{key}" must be true or false')
        patterns = _strings(path, ident, entry.get("patterns"), "patterns")
        out.claim_id(path, ident)
        out.rules.append(Rule(ident, category, severity, patterns, flags["negatable"],
                              flags["contextual"], path))


def _read_cues(path: Path, lang: str, data: Mapping[str, Any], out: _Builder) -> None:
    for pos, entry in enumerate(_entries(path, data, "idiom"), start=1):
        ident = _ident(path, entry, rf"{lang}\.idiom\.\d{{3}}", pos, "idiom")
        _check_keys(path, ident, entry, _IDIOM_KEYS)
        out.claim_id(path, ident)
        out.idioms.append(Idiom(ident, _strings(path, ident, entry.get("patterns"), "patterns"),
                                path))
    for pos, entry in enumerate(_entries(path, data, "context"), start=1):
        ident = _ident(path, entry, rf"{lang}\.context\.\d{{3}}", pos, "context")
        _check_keys(path, ident, entry, _CONTEXT_KEYS)
        applies = _strings(path, ident, entry.get("applies_to"), "applies_to")
        bad = sorted(set(applies) - set(CATEGORIES) - {"all"})
        if bad:
            raise LexiconError(path, ident, f"applies_to has unknown categories {bad}")
        cats = frozenset(CATEGORIES) if "all" in applies else frozenset(applies)
        out.claim_id(path, ident)
        out.contexts.append(ContextCue(
            ident, _strings(path, ident, entry.get("patterns"), "patterns"), cats, path))


def _read_tables(path: Path, data: Mapping[str, Any], out: _Builder) -> None:
    negation = data.get("negation", {})
    if not isinstance(negation, dict):
        raise LexiconError(path, "negation", "must be a table")
    _check_keys(path, "negation", negation, _NEGATION_KEYS)
    for key in _NEGATION_KEYS - {"window"}:
        if key in negation:
            out.neg[key].update(_strings(path, f"negation.{key}", negation[key], key,
                                         allow_empty=True))
    if "window" in negation:
        window = negation["window"]
        if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 6:
            raise LexiconError(path, "negation.window", "must be a whole number from 1 to 6")
        out.window = max(out.window, window)
    tense = data.get("tense", {})
    if not isinstance(tense, dict):
        raise LexiconError(path, "tense", "must be a table")
    _check_keys(path, "tense", tense, {"past", "current"})
    out.past += [(p, path) for p in _strings(path, "tense.past", tense.get("past", []), "past",
                                             allow_empty=True)]
    out.current += [(p, path) for p in _strings(path, "tense.current", tense.get("current", []),
                                                "current", allow_empty=True)]
    fuzzy = data.get("fuzzy", {})
    if not isinstance(fuzzy, dict):
        raise LexiconError(path, "fuzzy", "must be a table")
    _check_keys(path, "fuzzy", fuzzy, {"protect"})
    out.protected.update(_strings(path, "fuzzy.protect", fuzzy.get("protect", []), "protect",
                                  allow_empty=True))
    emoji = data.get("emoji", {})
    if not isinstance(emoji, dict):
        raise LexiconError(path, "emoji", "must be a table of emoji = \"name\"")
    for symbol, name in emoji.items():
        point = validate_emoji_key(symbol)
        if point is None or not isinstance(name, str) or not _EMOJI_NAME.fullmatch(name):
            raise LexiconError(path, f"emoji {symbol!r}",
                               "each key must be one emoji, each value 2-20 letters a-z")
        out.emoji[point] = name


def _read_file(path: Path, out: _Builder) -> None:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(path, "syntax", f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise LexiconError(path, "file", f"cannot read it: {exc.strerror}") from exc
    _check_keys(path, "top level", data, _TOP_KEYS)
    meta = data.get("meta")
    if not isinstance(meta, dict) or not _LANG.fullmatch(str(meta.get("language", ""))):
        raise LexiconError(path, "meta", 'needs [meta] with language = "de" (two letters)')
    lang = str(meta["language"])
    _read_rules(path, lang, data, out)
    _read_cues(path, lang, data, out)
    _read_tables(path, data, out)


def load_lexicon(directory: Path) -> Lexicon:
    """Read and merge every ``*.toml`` file of ``directory`` (sorted by name)."""
    if not directory.is_dir():
        raise LexiconError(directory, "directory", "not found; point to config/crisis")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise LexiconError(directory, "directory", "holds no *.toml lexicon files")
    out = _Builder()
    for path in files:
        _read_file(path, out)
    if not out.rules:
        raise LexiconError(directory, "rules", "no [[rule]] entries in any file")
    return out.build()


def languages(lexicon: Lexicon) -> frozenset[str]:
    """The languages ``lexicon`` has rules for ("xx": the shared emoji)."""
    langs = {rule.id.split(".", 1)[0] for rule in lexicon.rules}
    return frozenset(langs | ({"xx"} if lexicon.emoji else set()))


def refuse_missing_languages(directory: Path, lexicon: Lexicon, shipped: Path) -> None:
    """An office's own lexicons (``[crisis] lexicon_dir``) must cover every language the
    shipped ones do: every message is checked against all of them, and a directory holding
    a copy of de.toml alone left an English crisis to the model (and the emoji to nobody)."""
    reference = load_lexicon(shipped)
    missing = sorted(languages(reference) - languages(lexicon))
    if not missing:
        return
    files = sorted(path.name for path in shipped.glob("*.toml")
                   if _file_language(path) in missing)
    raise LexiconError(directory, "languages",
                       f"has no rules for {', '.join(missing)}; every message is checked "
                       f"against every language, so copy {', '.join(files) or missing} "
                       f"from {shipped} into it (and edit them there, if you wish)")


def _file_language(path: Path) -> str:
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8")).get("meta", {})
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return str(meta.get("language", "")) if isinstance(meta, dict) else ""

