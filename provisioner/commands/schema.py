"""``provision schema [-o FILE]``: the JSON Schema of a profile file, from the models.

The committed copy is ``schema/profile.schema.json``; editors find it through the
``# yaml-language-server: $schema=`` comment at the top of each profile.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from provisioner.errors import ExitCode, ProvisionError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    p.set_defaults(run=lambda a: schema(output=a.output))


def schema_text() -> str:
    """The JSON Schema of one profile file (``ProfileDocument``), as stable JSON text.

    A file with ``extends`` may leave out required fields (its bases supply them), so
    the required lists apply only to files without ``extends`` (an ``if``/``then``);
    the loader checks required fields after merging either way.
    """
    from provisioner.profile.model import ProfileDocument

    generated = ProfileDocument.model_json_schema()
    defs = generated.get("$defs", {})
    then = _required_tree(generated, defs)
    doc: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_without_required(generated),
        "if": {"not": {"required": ["extends"]}},
        "then": then,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(defs[ref.removeprefix("#/$defs/")])
    for option in node.get("anyOf", []):
        if "$ref" in option:
            return _resolve(option, defs)
    return node


def _required_tree(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The ``required`` lists of ``node`` and of every object below it, as a schema."""
    node = _resolve(node, defs)
    out: dict[str, Any] = {}
    if node.get("required"):
        out["required"] = list(node["required"])
    props = {}
    for name, child in node.get("properties", {}).items():
        sub = _required_tree(child, defs)
        if sub:
            props[name] = sub
    if props:
        out["properties"] = props
    return out


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def schema(*, output: Path | None = None) -> int:
    """Print the schema, or write it to ``output`` (reporting create/identical/overwrite)."""
    text = schema_text()
    if output is None:
        print(text, end="")
        return int(ExitCode.OK)
    from provisioner.outputs import output_target, write_output
    from provisioner.render import write_files

    if output_target(output, "-o") == "stream":  # /dev/stdout, a pipe: written through
        write_output(output, text, "-o")
        return int(ExitCode.OK)
    real = Path(os.path.realpath(output))  # a link the user named stays a link
    try:
        (written,) = write_files(real.parent, {real.name: (text, False)})
    except OSError as e:
        raise ProvisionError(
            f"cannot write {output}: {e.strerror or e}", hint="choose a writable path"
        ) from e
    print(f"{written.action.value:<9}  {output}")
    return int(ExitCode.OK)
