"""The compatibility table is well-formed data, and every rule in it is exercised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile
from provisioner.profile.compat import CHECKS, rules
from provisioner.profile.diagnostics import field_names
from provisioner.profile.model import Profile

CORPUS = Path(__file__).resolve().parent.parent / "data" / "invalid"


def is_field(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[:3] == ["requires", "gpu", "vendors"] and len(parts) == 4:
        return parts[3] in field_names(Profile, tuple(parts[:3]))
    return parts[-1] in field_names(Profile, tuple(parts[:-1]))


def test_rule_ids_are_unique_and_checks_known() -> None:
    ids = [r.id for r in rules()]
    assert len(ids) == len(set(ids))
    assert all(r.check in CHECKS for r in rules())


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.id)
def test_rule_reads_real_fields(rule: object) -> None:
    """A typo in a field name would silently switch a rule off."""
    fields = [*rule.when]  # type: ignore[attr-defined]
    if "field" in rule.args:  # type: ignore[attr-defined]
        fields.append(rule.args["field"])  # type: ignore[attr-defined]
    if rule.at:  # type: ignore[attr-defined]
        fields.append(rule.at)  # type: ignore[attr-defined]
    for f in fields:
        assert is_field(f), f"rule {rule.id}: {f!r} is not a profile field"  # type: ignore[attr-defined]


def corpus_messages() -> list[str]:
    out = []
    for case in sorted(CORPUS.glob("*.yaml")):
        try:
            load_profile(case)
        except ValidationFailed as e:
            out += [d.message for d in e.diagnostics]
    return out


def test_every_rule_fires_in_the_invalid_corpus() -> None:
    messages = corpus_messages()
    silent = []
    for rule in rules():
        static = max(re.split(r"\{[^}]*\}", rule.message), key=len)
        if not any(static in m for m in messages):
            silent.append(rule.id)
    assert not silent, f"rules with no broken profile in tests/data/invalid: {silent}"
