"""Experiment configurations: dataclasses with the handouts' defaults.

A run's configuration is resolved in this order, later sources winning:

1. the experiment's dataclass defaults (the handout's numbers),
2. a TOML file (``--config FILE.toml``, a flat table of field = value),
3. ``--set key=value`` overrides, parsed according to the field's type.

Every value is type-checked, and fields may declare ``choices`` or a ``check`` in their
metadata; anything wrong raises :class:`~practica.errors.ConfigError` with one line
saying which key, what was given and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def option(default: Any, help: str, *, choices: Iterable[Any] | None = None,
           check: Callable[[Any], bool] | None = None, check_msg: str = "") -> Any:
    """A config field with a help text and optional validation.

    ``choices`` restricts the value to a set; ``check`` is a predicate with ``check_msg``
    describing what it requires (e.g. ``"must be > 0"``).
    """
    metadata = {"help": help, "choices": tuple(choices) if choices is not None else None,
                "check": check, "check_msg": check_msg}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default),
                                 metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def positive(help: str, default: Any) -> Any:
    """A numeric field that must be > 0."""
    return option(default, help, check=lambda v: v > 0, check_msg="must be > 0")


def non_negative(help: str, default: Any) -> Any:
    """A numeric field that must be >= 0."""
    return option(default, help, check=lambda v: v >= 0, check_msg="must be >= 0")


def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _describe(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _toml_array(key: str, text: str) -> list[Any]:
    """A ``--set`` list written as a TOML array: ``[1, 2]``, ``["Hello, world", "x"]``.

    Bare words keep working as before (``[a, b]`` is ``["a", "b"]``): only text that parses
    as TOML is read as TOML.
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        inner = text.strip()
        if not inner.endswith("]") or '"' in inner or "'" in inner:
            raise ConfigError(f"{key}: {text!r} is not a valid list; write it as a TOML "
                              'array, e.g. ["a", "b, c"]') from None
        return [v.strip() for v in inner[1:-1].split(",") if v.strip()]


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` (a Python value from TOML, or a string from --set) to ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        is_none = value is None or (isinstance(value, str)
                                    and value.lower() in ("none", "null", ""))
        if is_none and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(key, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}")
    if origin in (list, tuple):
        item_tp = args[0] if args else str
        if isinstance(value, str) and value.lstrip().startswith("["):
            items = _toml_array(key, value)  # ["a, b", "c"]: items that hold commas
        elif isinstance(value, str):
            items = [v.strip() for v in value.strip("()").split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        coerced = [_coerce(key, v, item_tp) for v in items]
        if isinstance(value, str) and not coerced and value.strip() not in ("[]", "()"):
            raise ConfigError(f"{key}: empty value; give a list (e.g. {key}=100,100) or [] "
                              "for an empty one")
        return coerced if origin is list else tuple(coerced)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "no", "0", "off"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        try:
            return int(str(value).replace("_", ""))
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return str(value)
    raise ConfigError(f"{key}: unsupported type {_describe(tp)}")  # pragma: no cover


def validate(config: Any) -> Any:
    """Check every field's choices and checks; return the config."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            allowed = ", ".join(str(c) for c in choices)
            raise ConfigError(f"{f.name}: {value!r} is not one of: {allowed}")
        check = f.metadata.get("check")
        if check is not None and value is not None:
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if not check(item):
                    raise ConfigError(f"{f.name}: {value!r} {f.metadata.get('check_msg')}")
    post = getattr(config, "validate", None)
    if callable(post):
        post()
    return config


def parse_set(pairs: Iterable[str]) -> dict[str, str]:
    """Parse ``key=value`` strings from the command line."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        key = key.strip().replace("-", "_")
        if not key:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        out[key] = value.strip()
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a flat TOML table of config overrides."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder; give a TOML file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; give a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(f"config file {path}: nested table [{key}] is not supported; "
                              "use flat key = value lines")
        flat[key.replace("-", "_")] = value
    return flat


def apply_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """Return a copy of ``config`` with ``overrides`` applied, coerced and validated."""
    hints = _type_hints(type(config))
    names = [f.name for f in dataclasses.fields(config)]
    changes = {}
    for key, value in overrides.items():
        if key not in names:
            raise ConfigError(f"unknown config key {key!r}; known keys: {', '.join(names)}")
        changes[key] = _coerce(key, value, hints[key])
    return validate(dataclasses.replace(config, **changes))


def resolve(default: Any, toml_path: str | Path | None = None,
            set_pairs: Iterable[str] = ()) -> Any:
    """Resolve a config: defaults, then the TOML file, then ``--set`` pairs."""
    config = validate(default)
    if toml_path is not None:
        config = apply_overrides(config, load_toml(toml_path))
    return apply_overrides(config, parse_set(set_pairs))


def to_dict(config: Any) -> dict[str, Any]:
    """The config as JSON-serialisable plain data."""
    return dataclasses.asdict(config)


def from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """Rebuild a config from :func:`to_dict` output (used by ``practica resume``)."""
    return apply_overrides(cls(), dict(data))


def describe_fields(cls: type) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) for each field, for ``practica show``/docs."""
    hints = _type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        rows.append((f.name, _describe(hints[f.name]), default, f.metadata.get("help", "")))
    return rows
