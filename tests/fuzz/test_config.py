"""Fuzzing the config loader: any mapping in, Settings or ConfigError out; nothing else."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counsel_bot.config import ConfigError, Settings, load_settings, settings_from_mapping
from counsel_bot.core.errors import BotError
from counsel_bot.runtime.runner import policy_from
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.synapse_config import render_homeserver_yaml
from tests.fuzz.hostile import hostile_text

SHAPELESS_EXAMPLES = 400
TYPED_EXAMPLES = 600
TOML_EXAMPLES = 300


def _option_names(cls: type) -> set[str]:
    names: set[str] = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        names.add(f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            names |= _option_names(hints[f.name])
    return names


KEYS = st.one_of(
    st.sampled_from(sorted(_option_names(Settings))),
    st.sampled_from(["mon", "sun", "holiday", "", " ", "bot.localpart", "\x00"]),
    hostile_text(big=False),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(),
    st.integers(-(2**80), 2**80), hostile_text(big=False),
    st.sampled_from(["de", "en", "token", "open", "closed", "INFO", "00:00-24:00",
                     "09:00-17:00", "25:00-26:00", "Europe/Berlin", "UTC", "../../etc/passwd",
                     "2026-12-24", "@a:b", "0.0.0.0", "::1", "x" * 300]),
    st.binary(max_size=8), st.datetimes(), st.dates(), st.times(),
)
SHAPELESS = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5)
    | st.tuples(children)
    | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


def mostly(right: st.SearchStrategy[Any], wrong: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`right` four times in five. (one_of would flatten `wrong`'s many branches and drown
    `right` in them.)"""
    return st.integers(0, 4).flatmap(lambda pick: wrong if pick == 0 else right)


def table_of(tp: Any) -> st.SearchStrategy[dict[str, Any]]:
    hints = typing.get_type_hints(tp)
    optional = {f.name: typed(hints[f.name]) for f in dataclasses.fields(tp)}
    return st.fixed_dictionaries({}, optional=optional)


def typed(tp: Any) -> st.SearchStrategy[Any]:
    """Values of roughly the declared type, so validation reaches the option's own checks;
    sometimes something else entirely."""
    if dataclasses.is_dataclass(tp):
        table = table_of(tp)
        # Mostly a table of the right options, so the fuzzer gets deep into nested sections.
        return mostly(table, SHAPELESS)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    wild = SCALARS
    if origin is Literal:
        exact = st.sampled_from(args)
        return mostly(exact | exact.map(lambda a: a.upper() if isinstance(a, str) else a), wild)
    if origin is tuple:
        return mostly(st.lists(typed(args[0]), max_size=6), wild)
    if origin is dict:
        return mostly(st.dictionaries(KEYS, typed(args[1]), max_size=8), wild)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(typed(a) for a in args))
    if tp is bool:
        return mostly(st.booleans(), wild)
    if tp is int:
        return mostly(st.integers(-5, 70_000) | st.integers(), wild)
    if tp is float:
        return mostly(st.floats() | st.floats(-10.0, 1e6) | st.integers(-5, 10**6), wild)
    if tp is str:
        return mostly(hostile_text(big=False), wild)
    return wild


TYPED = table_of(Settings)


def load(data: object) -> None:
    try:
        loaded = settings_from_mapping(data)  # type: ignore[arg-type]
    except ConfigError as exc:
        error = str(exc)
    else:
        assert isinstance(loaded, Settings)
        check_usable(loaded)
        return
    assert error, "a ConfigError must say what is wrong"


def check_usable(loaded: Settings) -> None:
    """Settings the loader accepted must start the service: a value that only fails when
    the bot or Synapse starts is a crash the loader should have turned into a ConfigError."""
    try:
        policy_from(loaded)
    except BotError as exc:
        # Documented: a *_file option naming a file that cannot be read stops the start.
        refused = str(exc)
    else:
        refused = "fix the path"
    assert "fix the path" in refused
    timedelta(seconds=loaded.bot.undecryptable_grace_seconds)
    rendered = render_homeserver_yaml(loaded.homeserver, DataLayout(Path("/srv/counsel")))
    config = yaml.load(rendered, Loader=yaml.CSafeLoader)
    limits = loaded.homeserver.rate_limits
    assert config["rc_message"]["per_second"] == limits.messages.per_second
    assert config["rc_message"]["burst_count"] == limits.messages.burst
    assert config["server_name"] == loaded.homeserver.server_name
    assert config["public_baseurl"].startswith(loaded.homeserver.advertised_url.rstrip("/"))


@settings(max_examples=SHAPELESS_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(KEYS, SHAPELESS, max_size=6) | SHAPELESS)
def test_any_shape_is_settings_or_config_error(data: object) -> None:
    load(data)


@settings(max_examples=TYPED_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=TYPED)
def test_nearly_right_values_are_settings_or_config_error(data: object) -> None:
    load(data)


EXAMPLE = (Path(__file__).resolve().parents[2] / "config" / "counsel.example.toml").read_text(
    encoding="utf-8"
).splitlines()
ASSIGNMENTS = [i for i, line in enumerate(EXAMPLE) if re.match(r"[a-z_]+ = ", line)]
TOML_VALUES = st.sampled_from([
    "nan", "inf", "-inf", "+inf", "1e300", "-1e300", "-1", "0", "0.0", "-0.0", "1", "65536",
    "99999999999999999999", "9223372036854775807", '""', '" "', "[]", "[1]", '[""]',
    "{}", "true", "false", "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27",
    "{ per_second = 1.0 }", "{ burst = 1 }", "{ per_second = nan, burst = 1 }",
    "{ per_second = -1.0, burst = -1 }", r'"\u202e"', r'"\u0000"', "'x'",
])


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """The documented example with one to three of its values replaced, or lines dropped or
    garbled: close enough to a real file to reach every option's validation."""
    lines = list(EXAMPLE)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.sampled_from(ASSIGNMENTS))
        how = draw(st.integers(0, 9))
        key = lines[i].split(" = ", 1)[0]
        if how <= 7:
            lines[i] = f"{key} = {draw(TOML_VALUES)}"
        elif how == 8:
            lines[i] = ""
        else:
            lines[i] = draw(hostile_text(big=False))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@settings(max_examples=TOML_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated_example() | st.binary(max_size=64))
def test_any_file_is_settings_or_config_error(raw: bytes, tmp_path_factory: Any) -> None:
    path = Path(tmp_path_factory.getbasetemp()) / "fuzz.toml"
    path.write_bytes(raw)
    try:
        loaded = load_settings(path)
    except ConfigError:
        return
    # repr, not ==: a NaN option would make equal settings compare unequal.
    assert repr(loaded) == repr(settings_from_mapping(tomllib.loads(raw.decode("utf-8")),
                                                      beside=path.resolve().parent))
    check_usable(loaded)
