"""Turning YAML / ``--set`` values into config dataclasses: unknown keys, types, the
``model`` section. Every error is an :class:`~geodl.errors.InputError` that names the
source, the key and what is valid; numeric ranges are the fields' :func:`bounded`
schema, checked by the dataclasses themselves."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Union

from geodl.errors import InputError

__all__ = ["build_dataclass", "check_model_section", "model_keys", "parse_value"]


def parse_value(text: str) -> Any:
    """A ``--set`` value parsed as YAML (``1e-3``, ``true``, ``[25, 50]``, ``null``);
    text that is not YAML stays text.

    Examples
    --------
    >>> parse_value("[4, 8]"), parse_value("null"), parse_value("a: [")
    ([4, 8], None, 'a: [')
    """
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _did_you_mean(key: str, names: list[str]) -> str:
    close = difflib.get_close_matches(str(key), names, n=3)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _check_type(value: Any, hint: Any, where: str) -> Any:
    """``value`` for a field annotated ``hint`` (str, bool, unions with None / str)."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_type(value, option, where)
            except InputError as exc:
                errors.append(str(exc))
        raise InputError(errors[0] if errors else f"{where}: invalid value {value!r}.")
    if hint is bool and not isinstance(value, bool):
        raise InputError(f"{where} must be true or false, got {value!r}.")
    if hint is str:
        if not isinstance(value, (str, Path)):
            raise InputError(f"{where} must be a string, got {value!r}.")
        return str(value)
    return value


def build_dataclass(
    cls: type,
    d: Any,
    source: str,
    prefix: str = "",
    special: Mapping[str, Callable[[Any, str], Any]] | None = None,
) -> Any:
    """Build dataclass ``cls`` from mapping ``d``: unknown keys are errors (with the valid
    ones listed), nested dataclasses recurse, ``special[key](value, source)`` handles a
    key itself, and the dataclass's own ``__post_init__`` checks the values."""
    if not isinstance(d, Mapping):
        raise InputError(
            f"{source}: section {prefix.rstrip('.') or '<top>'!r} must be a mapping "
            f"(key: value lines), got {type(d).__name__}."
        )
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in d.items():
        where = f"{prefix}{key}"
        if key not in names:
            section = f" in {prefix.rstrip('.')!r}" if prefix else ""
            raise InputError(
                f"{source}: unknown key {where!r}.{_did_you_mean(key, names)} "
                f"Valid keys{section}: {', '.join(names)}."
            )
        hint = hints[key]
        if special and key in special:
            kwargs[key] = special[key](value, source)
        elif dataclasses.is_dataclass(hint):
            nested = typing.cast(type, hint)
            kwargs[key] = build_dataclass(nested, value or {}, source, f"{where}.", special=None)
        elif _bounded(cls, key):
            kwargs[key] = value  # the field's Bound converts and checks it
        else:
            kwargs[key] = _check_type(value, hint, f"{source}: {where}")
    try:
        return cls(**kwargs)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def _bounded(cls: type, name: str) -> bool:
    return any(f.name == name and "bound" in f.metadata for f in dataclasses.fields(cls))


def model_keys(model_type: str | None = None) -> list[str]:
    """Keys of ``model.type``'s config, or of every registered family when ``None``."""
    from geodl.atoms.model import MODEL_TYPES, resolve_model_type

    if model_type is not None:
        return resolve_model_type(model_type).config.keys()
    keys: list[str] = []
    for family in MODEL_TYPES.values():
        keys += [k for k in family.config.keys() if k not in keys]
    return keys


def check_model_section(value: Any, source: str) -> dict[str, Any]:
    """The ``model`` section: known keys of its family and values valid for the
    family's config (checked with a stand-in ``type_map`` when the data will supply it;
    the network is built on the ``meta`` device, so its own checks run too)."""
    from geodl.atoms.model import DEFAULT_MODEL_TYPE, model_config_from_dict, model_size

    if not isinstance(value, Mapping):
        raise InputError(f"{source}: section 'model' must be a mapping, got {value!r}.")
    model_type = value.get("type", DEFAULT_MODEL_TYPE)
    try:
        keys = model_keys(model_type)
    except ValueError as exc:
        raise InputError(f"{source}: model.type: {exc}") from None
    for key in value:
        if key not in keys:
            raise InputError(
                f"{source}: unknown key 'model.{key}' for model.type {model_type!r}."
                f"{_did_you_mean(key, keys)} Valid keys in 'model': {', '.join(keys)}."
            )
    trial = dict(value)
    if "type_map" not in trial:
        e0s = trial.get("e0s")
        trial["type_map"] = [str(k) for k in e0s] if isinstance(e0s, Mapping) and e0s else ["H"]
    try:
        config = model_config_from_dict(trial)
        model_size(config)  # builds on the meta device: the family's own checks run
    except (TypeError, ValueError) as exc:
        text = str(exc) if str(exc).startswith("model") else f"model: {exc}"
        raise InputError(f"{source}: {text}") from exc
    return dict(value)
