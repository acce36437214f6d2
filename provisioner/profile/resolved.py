"""The resolved profile value and the entry point that produces it.

FIRST CUT (foundation): plain yaml.safe_load + naive extends. The full loader
(marks, duplicate keys, did-you-mean, merge by package name, compat table) replaces
the body of :func:`load_profile` but keeps its signature and the
:class:`ResolvedProfile` fields.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from provisioner.errors import Diagnostic, Position, ValidationFailed
from provisioner.profile.model import Profile


@dataclass(frozen=True)
class ResolvedProfile:
    """A validated profile after ``extends``; frozen, safe to share."""

    profile: Profile
    path: Path  # the file the user named
    sources: tuple[Path, ...]  # every file that contributed, base first
    origins: dict[str, Position] = field(default_factory=dict)  # "environment.python" -> pos

    @property
    def name(self) -> str:
        return self.profile.name

    def as_data(self) -> dict[str, Any]:
        """The resolved profile as JSON-ready data (enums as strings)."""
        return self.profile.model_dump(mode="json")

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the resolved profile: what locks and state key on."""
        blob = json.dumps(self.as_data(), sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()


def load_profile(path: str | Path) -> ResolvedProfile:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValidationFailed([Diagnostic(f"cannot read profile: {e.strerror}",
                                           Position(str(p), 1, 1))]) from e
    data = dict(data or {})
    data.pop("extends", None)
    try:
        prof = Profile.model_validate(data)
    except ValidationError as e:
        raise ValidationFailed(
            [Diagnostic(err["msg"], Position(str(p), 1, 1), ".".join(map(str, err["loc"])))
             for err in e.errors()]
        ) from e
    return ResolvedProfile(prof, p, (p,))
