"""Frozen dataclasses to and from JSON-able dicts, checked field by field with clear errors.

The configs (`engine.model.config`, `engine.train.config`) are plain frozen dataclasses; this
module is what turns a config file, a checkpoint's config.json or a `--set key=value` into one,
so that a typo or a string where a number belongs is named before anything runs.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from engine.errors import EngineError

T = TypeVar("T")


def to_dict(value: Any) -> Any:
    """A config as JSON-able data: dataclasses as dicts, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_dict(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_dict(v) for k, v in value.items()}
    return value


def from_dict(cls: type[T], data: Any, where: str = "") -> T:
    """Build dataclass `cls` from `data`, converting nested dataclasses and tuples by the field types.

    Unknown keys and values of the wrong type raise EngineError naming the field (`where.field`).
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise EngineError(f"{where or cls.__name__}: expected a mapping of fields, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise EngineError(f"{where or cls.__name__}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    values = {key: convert(hints[key], value, f"{where}.{key}" if where else key) for key, value in data.items()}
    try:
        return cls(**values)
    except TypeError as error:
        raise EngineError(f"{where or cls.__name__}: {error}") from None


def convert(kind: Any, value: Any, where: str) -> Any:
    """`value` as type `kind` (int, float, bool, str, None, tuple[...], dict[...], a dataclass, a union of these)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        errors = []
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        for option in (o for o in options if o is not type(None)):
            try:
                return convert(option, value, where)
            except EngineError as error:
                errors.append(str(error))
        raise EngineError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of {_name(kind)}")
    if dataclasses.is_dataclass(kind):
        parse = getattr(kind, "parse", None)
        if isinstance(value, str) and parse is not None:
            return parse(value)
        return from_dict(kind, value, where)
    if origin is tuple:
        (item, *_rest) = typing.get_args(kind)
        if isinstance(value, str):  # "en,de" for a list of words; one item otherwise (a data spec has commas)
            value = [v for v in value.split(",") if v] if item is str else [value]
        if not isinstance(value, (list, tuple)):
            raise EngineError(f"{where}: expected a list, got {value!r}")
        return tuple(convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict or kind is dict:
        if isinstance(value, str):  # "en=2,de=1"
            pairs = [item.partition("=") for item in value.split(",") if item]
            if any(not eq for _, eq, _ in pairs):
                raise EngineError(f"{where}: expected KEY=VALUE,KEY=VALUE, got {value!r}")
            value = {k.strip(): parse_value(v.strip()) for k, _, v in pairs}
        if not isinstance(value, Mapping):
            raise EngineError(f"{where}: expected a mapping, got {value!r}")
        key_type, value_type = typing.get_args(kind) or (str, Any)
        return {convert(key_type, k, where): convert(value_type, v, f"{where}.{k}") for k, v in value.items()}
    if kind is Any:
        return value
    if kind is type(None):
        if value is not None:
            raise EngineError(f"{where}: expected null, got {value!r}")
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise EngineError(f"{where}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise EngineError(f"{where}: expected a whole number, got {value!r}")
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise EngineError(f"{where}: expected a number, got {value!r}")
    if kind is str:
        if isinstance(value, str):
            return value
        raise EngineError(f"{where}: expected a string, got {value!r}")
    raise EngineError(f"{where}: unsupported field type {_name(kind)}")


def parse_value(text: str) -> Any:
    """A `--set` value: JSON where it parses (numbers, true/false, null, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def check(condition: bool, message: str) -> None:
    """Validation inside `__post_init__`: a config that breaks a rule is a user mistake."""
    if not condition:
        raise EngineError(message)


def _name(kind: Any) -> str:
    return getattr(kind, "__name__", str(kind))
