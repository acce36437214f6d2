"""``provision schema [-o FILE]``: the JSON Schema of a profile file, from the models.

The committed copy is ``schema/profile.schema.json``; editors find it through the
``# yaml-language-server: $schema=`` comment at the top of each profile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provisioner.errors import ExitCode


def add_parser(sub: Any) -> None:
    p = sub.add_parser("schema", help="print or write the profile JSON Schema")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    p.set_defaults(run=lambda a: schema(output=a.output))


def schema_text() -> str:
    """The JSON Schema of one profile file (``ProfileDocument``), as stable JSON text."""
    from provisioner.profile.model import ProfileDocument

    doc: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **ProfileDocument.model_json_schema(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def schema(*, output: Path | None = None) -> int:
    """Print the schema, or write it to ``output`` (reporting create/identical/overwrite)."""
    text = schema_text()
    if output is None:
        print(text, end="")
        return int(ExitCode.OK)
    from provisioner.render import write_files

    (written,) = write_files(output.parent, {output.name: (text, False)})
    print(f"{written.action.value:<9}  {output}")
    return int(ExitCode.OK)
