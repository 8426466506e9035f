"""A parsed TOML table made into a frozen dataclass, checked against its type hints.

An unknown key or a value of the wrong type is an error naming the key path, never ignored
or converted: a typo in a privacy setting must not silently fall back to something else.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, TypeVar

T = TypeVar("T")


class ConfigError(Exception):
    """The configuration file cannot be used; the message names the key and what to change."""


def build(cls: type[T], data: object) -> T:
    """``cls`` from the table ``data``, every field coerced to its annotated type."""
    return _build(cls, data, "")


def _build(cls: type[T], data: object, path: str) -> T:
    where = path.rstrip(".") or "the top level"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {_describe(data)}")
    assert dataclasses.is_dataclass(cls)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(
                f"{path}{key}: unknown option; the options are listed in "
                "config/counsel.example.toml"
            )
    for f in dataclasses.fields(cls):
        required = (f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING)
        if required and f.name not in data:
            raise ConfigError(f"{path}{f.name}: missing; this table needs it")
    kwargs = {name: _coerce(hints[name], value, f"{path}{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _coerce(tp: Any, value: object, path: str) -> object:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type, tp), value, path + ".")
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(f"{path}: {value!r} is not one of {choices}")
        return value
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {_describe(value)}")
        return tuple(_coerce(item_type, item, f"{path}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        _key_type, value_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a table, got {_describe(value)}")
        return {k: _coerce(value_type, v, f"{path}.{k}") for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(tp, value, path)
    return _coerce_scalar(tp, value, path)


def _coerce_union(tp: Any, value: object, path: str) -> object:
    errors = []
    for option in typing.get_args(tp):
        try:
            return _coerce(option, value, path)
        except ConfigError as exc:
            errors.append(str(exc))
    raise ConfigError(errors[-1])


def _coerce_scalar(tp: Any, value: object, path: str) -> object:
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected true or false, got {_describe(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected a whole number, got {_describe(value)}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"{path}: expected a finite number, got {value}")
            return float(value)
        raise ConfigError(f"{path}: expected a number, got {_describe(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{path}: expected a string, got {_describe(value)}")
    raise ConfigError(f"{path}: this option cannot be set from the file")


def _describe(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{names.get(type(value), type(value).__name__)} ({text})"
