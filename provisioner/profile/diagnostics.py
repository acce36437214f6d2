"""Turn pydantic's validation errors into compiler-style diagnostics with positions.

Pydantic reports a ``loc`` such as ``("environment", "pythn")`` and no line
numbers; we map each ``loc`` back to the YAML marks kept by the loader (as
cloud-init's schema annotator does), and phrase the message for a person:
unknown keys get a "did you mean", enums list their allowed values.
"""

from __future__ import annotations

import datetime
import difflib
import enum
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from provisioner.errors import Diagnostic
from provisioner.profile.extends import Merged
from provisioner.profile.yamlnodes import VERSION_FIELDS, Loc, dotted

_MAX_SHOWN = 60


def from_validation_error(
    error: ValidationError, merged: Merged, model: type[BaseModel]
) -> list[Diagnostic]:
    """One :class:`Diagnostic` per pydantic error, each with the position of its value."""
    out: list[Diagnostic] = []
    for err in error.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            out.append(_unknown_key(loc, merged, model))
        elif kind == "missing":
            parent = loc[:-1]
            pos = merged.key_position(parent) if parent else merged.position(())
            out.append(Diagnostic(f'missing required field "{loc[-1]}"', pos, dotted(parent)))
        else:
            out.append(
                Diagnostic(_message(kind, err, loc, value), merged.position(loc), dotted(loc))
            )
    return out


def _unknown_key(loc: Loc, merged: Merged, model: type[BaseModel]) -> Diagnostic:
    key = str(loc[-1])
    allowed = field_names(model, loc[:-1])
    guess = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if guess:
        hint = f' (did you mean "{guess[0]}"?)'
    elif allowed:
        hint = f"; allowed keys here: {', '.join(allowed)}"
    else:
        hint = ""
    return Diagnostic(f'unknown key "{key}"{hint}', merged.key_position(loc), dotted(loc))


def field_names(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model found at ``loc`` inside ``model`` (empty if none)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            return []
        current = model_of(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else []


def model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = model_of(arg)
            if found is not None:
                return found
    return None


def _message(kind: str, err: Any, loc: Loc, value: Any) -> str:
    ctx = err.get("ctx") or {}
    if kind == "enum":
        allowed = [
            a.strip(" '") for a in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")
        ]
        allowed = [a for a in allowed if a]
        did = _did_you_mean(str(value), allowed)
        return f"{_shown(value)} is not one of: {', '.join(allowed)}{did}"
    if kind == "string_pattern_mismatch":
        if loc in VERSION_FIELDS:
            return f'{_shown(value)} is not a version: write 1 to 4 dotted numbers, e.g. "3.10"'
        return f"{_shown(value)} does not match the pattern {ctx.get('pattern', '')}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "string_type" and isinstance(value, (int, float, bool)) and value is not None:
        return f"expected text, got the YAML {type(value).__name__} {value!r}; quote it"
    if kind == "string_type" and isinstance(value, datetime.date):  # YAML 1.1 timestamps
        return f"expected text, got the YAML date {value}; quote it"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {_shown(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_shown(value)}"
    return f"{err['msg']}, got {_shown(value)}"


# Words people write for an enum value, by meaning: a spelling match alone would turn
# `device: gpu` into "cpu", a GPU profile into a CPU one.
MEANINGS: dict[str, tuple[str, ...]] = {
    "gpu": ("cuda", "dml", "directml"),
    "accelerator": ("cuda", "dml", "directml"),
    "nvidia": ("cuda",),
    "cudnn": ("cuda",),
    "amd": ("dml", "directml"),
    "intel": ("dml", "directml"),
    "directx": ("dml", "directml"),
    "dx12": ("dml", "directml"),
    "dml": ("directml",),
    "directml": ("dml",),
    "torch": ("pytorch",),
    "tf": ("tensorflow",),
    "cpu-only": ("cpu", "none"),
    "conda-forge": ("conda",),
    "mamba": ("conda",),
    "micromamba": ("conda",),
    "pip": ("venv",),
    "virtualenv": ("venv",),
    "uv": ("venv",),
    "wsl": ("wsl2",),
    "win": ("windows",),
    "ubuntu": ("linux",),
}


def _did_you_mean(value: str, allowed: list[str]) -> str:
    """' (did you mean "x"?)' by meaning first (``gpu`` -> cuda or dml), then spelling."""
    meant = [a for a in MEANINGS.get(value.strip().lower(), ()) if a in allowed]
    if meant:
        return " (did you mean " + " or ".join(f'"{a}"' for a in meant) + "?)"
    guess = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    return f' (did you mean "{guess[0]}"?)' if guess else ""


def _shown(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        text = f'"{value}"'
    elif isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = "a list"
    else:
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."
