"""The resolved profile value, and :func:`load_profile`, the one way to get one.

Loading is a short pipeline: read the ``extends`` chain with positions
(:mod:`.extends`, :mod:`.yamlnodes`), validate the merge with the pydantic models
(:mod:`.diagnostics` maps errors back to lines), then apply the compatibility
table (:mod:`.compat`). Every problem found on the way is reported, not only the
first. The compatibility table's verdict is known without running it when the
profile's validation key (:mod:`.validation_key`) is the one recorded at the
environment's last verified apply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from provisioner.errors import Diagnostic, Position, ValidationFailed
from provisioner.profile.model import Profile


@dataclass(frozen=True)
class ResolvedProfile:
    """A validated profile after ``extends``; frozen, safe to share."""

    profile: Profile
    path: Path  # the file the user named
    sources: tuple[Path, ...]  # every file that contributed, base first
    # dotted path -> where it was set; package-list items by name: "environment.pip[torch]",
    # other list items by index: "environment.channels[0]". Defaults have no entry.
    origins: dict[str, Position] = field(default_factory=dict)
    # what validate prints as warnings (a variable that redirects TLS trust, ...)
    warnings: tuple[Diagnostic, ...] = ()
    # The validation key (validation_key.py) under which the compatibility rules found
    # nothing; "" when they found something (a warning) or it cannot be computed.
    validation_key: str = ""

    @property
    def name(self) -> str:
        return self.profile.name

    def as_data(self) -> dict[str, Any]:
        """The resolved profile as JSON-ready data (enums as strings)."""
        return self.profile.model_dump(mode="json")

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the resolved profile: what locks and state key on."""
        return content_hash(self.as_data())


def content_hash(data: object) -> str:
    """sha256 of the canonical JSON of a profile's data (``model_dump(mode="json")``)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


# The validation key recorded for an environment (by its name), "" when none is.
RecordedKey = Callable[[str], str]


def load_profile(path: str | Path, *, recorded: RecordedKey | None = None) -> ResolvedProfile:
    """Load, merge and validate a profile; raise :class:`ValidationFailed` with every error.

    ``recorded``: the validation key recorded for an environment (apply passes the
    state's): when it is this profile's key, the compatibility rules are known to find
    nothing and do not run; any other key (another profile content, data file, rule
    code or provision version) runs them."""
    from provisioner.profile.extends import resolve
    from provisioner.profile.validation_key import validation_key
    from provisioner.profile.values import bad_character, check_text, check_variables

    p = Path(path)
    bad_name = bad_character(p.name)
    if bad_name is not None:  # the lockfile's name and header, and scripts' comments, carry it
        message = f"the file name contains {bad_name}; rename the profile file"
        raise _failed([Diagnostic(message, Position(str(p), 1, 1))])
    merged, diags = resolve(p)
    if merged is None:
        raise _failed(diags or [Diagnostic("cannot load profile", Position(str(p), 1, 1))])
    text_diags = check_text(merged)
    refused = {d.path for d in text_diags}
    diags += text_diags + check_variables(merged.data, merged)
    try:
        profile = Profile.model_validate(merged.data)
    except ValidationError as e:
        from provisioner.profile.diagnostics import from_validation_error  # errors only

        diags += [d for d in from_validation_error(e, merged, Profile) if d.path not in refused]
        # The compatibility rules still run on what did validate, so one pass shows all.
        from provisioner.profile.compat import check_partial

        bad = [tuple(err["loc"]) for err in e.errors()]
        diags += check_partial(merged, bad)
        raise _failed(diags) from None
    data = profile.model_dump(mode="json")
    key = validation_key(content_hash(data))
    if not key or recorded is None or recorded(profile.environment.name) != key:
        from provisioner.profile.compat import check_profile

        found = check_profile(data, merged)
        diags += found
        key = "" if found else key
    if any(d.severity == "error" for d in diags):
        raise _failed(diags)
    warnings = tuple(_failed(diags).diagnostics)  # sorted, each on one line
    return ResolvedProfile(
        profile, p, tuple(merged.sources), merged.origins(), warnings, validation_key=key
    )


def _failed(diags: list[Diagnostic]) -> ValidationFailed:
    """Every diagnostic printable on one line: control characters from the file escaped."""
    return ValidationFailed(
        [
            replace(
                d,
                message=one_line(d.message),
                path=one_line(d.path),
                position=replace(d.position, file=one_line(d.position.file))
                if d.position
                else None,
            )
            for d in diags
        ]
    )


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
