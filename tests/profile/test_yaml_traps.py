"""YAML 1.1 reads more than people mean: ``3.10`` is 3.1, ``yes`` is true, ``0755`` is
493, ``2024-01-01`` is a date. Each trap in a profile is one error at the value, with
what YAML made of it and how to write it instead; what YAML reads as meant still loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile

# Line numbers below count in this document.
BASE = """\
name: traps
description: a profile for the YAML traps
target: {os: wsl2}
requires:
  wsl: {version: 2, min_kernel: "5.10.43.3"}
  windows: {min_build: 19044}
environment:
  manager: venv
  name: traps-env
  python: "3.11"
  pip: [numpy]
  variables: {MODE: fast}
smoke_test:
  framework: pytorch
  device: cpu
  steps: 200
  timeout_s: 600
  require_accelerator: false
"""
BOOLEAN = "(yes/no/on/off/true/false are booleans in YAML); write a number"


def load_with(tmp_path: Path, old: str, new: str) -> list[str]:
    """Load BASE with ``old`` (found exactly once) replaced; the diagnostics as printed."""
    assert BASE.count(old) == 1, old
    path = tmp_path / "traps.yaml"
    path.write_text(BASE.replace(old, new), encoding="utf-8")
    try:
        load_profile(path)
    except ValidationFailed as e:
        return [line.removeprefix(f"{path}:") for line in e.lines()]
    return []


def test_the_base_document_loads(tmp_path: Path) -> None:
    assert load_with(tmp_path, "name: traps\n", "name: traps\n") == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            'python: "3.11"',
            "python: 3.10",
            "10:11: error: environment.python: unquoted version 3.10 is read by YAML as "
            'the number 3.1; quote it: "3.10"',
            id="python-3.10-is-3.1",
        ),
        pytest.param(
            'python: "3.11"',
            "python: 3.11",
            "10:11: error: environment.python: unquoted version 3.11 is read by YAML as "
            'the number 3.11; quote it: "3.11"',
            id="python-float-even-when-it-survives",
        ),
        pytest.param(
            'min_kernel: "5.10.43.3"',
            "min_kernel: 5.10",
            "5:33: error: requires.wsl.min_kernel: unquoted version 5.10 is read by YAML as "
            'the number 5.1; quote it: "5.10"',
            id="kernel-5.10-is-5.1",
        ),
        pytest.param(
            "name: traps-env",
            "name: 0755",
            "9:9: error: environment.name: expected text, got the YAML int 493; quote it",
            id="octal-name",
        ),
        pytest.param(
            "name: traps-env",
            "name: yes",
            "9:9: error: environment.name: expected text, got the YAML bool True; quote it",
            id="yes-as-name",
        ),
        pytest.param(
            "MODE: fast",
            "MODE: on",
            "12:21: error: environment.variables.MODE: expected text, got the YAML bool True; "
            "quote it",
            id="on-as-variable",
        ),
        pytest.param(
            "MODE: fast",
            "MODE: 010",
            "12:21: error: environment.variables.MODE: expected text, got the YAML int 8; quote it",
            id="octal-variable",
        ),
        pytest.param(
            "pip: [numpy]",
            "pip: [numpy, 1.5]",
            "11:16: error: environment.pip[1]: expected text, got the YAML float 1.5; quote it",
            id="number-in-pip",
        ),
        pytest.param(
            "description: a profile for the YAML traps",
            "description: 2024-01-01",
            "2:14: error: description: expected text, got the YAML date 2024-01-01; quote it",
            id="date-description",
        ),
        pytest.param(
            "MODE: fast",
            "MODE: 2024-01-01 10:00:00",
            "12:21: error: environment.variables.MODE: expected text, got the YAML date "
            "2024-01-01 10:00:00; quote it",
            id="timestamp-variable",
        ),
        pytest.param(
            "wsl: {version: 2,",
            "wsl: {version: yes,",
            "5:18: error: requires.wsl.version: expected a number, got the YAML boolean true "
            f"{BOOLEAN}",
            id="yes-as-wsl-version",
        ),
        pytest.param(
            "min_build: 19044",
            "min_build: on",
            "6:24: error: requires.windows.min_build: expected a number, got the YAML boolean "
            f"true {BOOLEAN}",
            id="on-as-build",
        ),
        pytest.param(
            "steps: 200",
            "steps: no",
            "16:10: error: smoke_test.steps: expected a number, got the YAML boolean false "
            f"{BOOLEAN}",
            id="no-as-steps",
        ),
        pytest.param(
            "timeout_s: 600",
            "timeout_s: off",
            "17:14: error: smoke_test.timeout_s: expected a number, got the YAML boolean false "
            f"{BOOLEAN}",
            id="off-as-timeout",
        ),
        pytest.param(
            "pip: [numpy]",
            "pip: numpy",
            '11:8: error: environment.pip: expected a list, got "numpy"',
            id="scalar-for-list",
        ),
        pytest.param(
            "target: {os: wsl2}",
            "target: wsl2",
            '3:9: error: target: expected a mapping of keys, got "wsl2"',
            id="scalar-for-mapping",
        ),
    ],
)
def test_a_yaml_trap_is_one_error_at_the_value(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert load_with(tmp_path, old, new) == [expected]


def test_a_merge_key_points_at_extends(tmp_path: Path) -> None:
    (line,) = load_with(tmp_path, "name: traps\n", "name: traps\n<<: {x: 1}\n")
    assert line.startswith("2:1: error: ") and "extends" in line


@pytest.mark.parametrize(
    ("old", "new", "field", "value"),
    [
        ("steps: 200", "steps: 0x20", ("smoke_test", "steps"), 32),
        ("steps: 200", "steps: 1_000", ("smoke_test", "steps"), 1000),
        ("steps: 200", 'steps: "300"', ("smoke_test", "steps"), 300),
        ("timeout_s: 600", "timeout_s: 1:30", ("smoke_test", "timeout_s"), 90),  # base 60
        ('python: "3.11"', "python: '3.11'", ("environment", "python"), "3.11"),
        ('python: "3.11"', "python: 3.11.4", ("environment", "python"), "3.11.4"),
        ("require_accelerator: false", "require_accelerator: off", ("smoke_test",), None),
        ("require_accelerator: false", "require_accelerator: no", ("smoke_test",), None),
    ],
)
def test_what_yaml_reads_as_meant_still_loads(
    tmp_path: Path, old: str, new: str, field: tuple[str, ...], value: object
) -> None:
    path = tmp_path / "meant.yaml"
    path.write_text(BASE.replace(old, new), encoding="utf-8")
    profile = load_profile(path).profile
    node: object = profile
    for part in field:
        node = getattr(node, part)
    if value is None:  # the boolean fields: off/no are false, as meant
        assert profile.smoke_test.require_accelerator is False
    else:
        assert node == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "missing"),
        (
            "- a\n- b\n",
            "1:1: error: a profile is a mapping of keys (name:, target:, ...), got a list",
        ),
        ("just words\n", "a profile is a mapping of keys"),
        ("---\nname: a\n---\nname: b\n", "expected a single document"),
        ("name: a\n\tdescription: tab\n", "2:1: error: "),
        ("? [a, b]\n: x\n", "a key must be a plain name, not a list or mapping"),
        ("name: [unclosed\n", "YAML syntax error"),
        ("name: 'it''s'\nname: twice\n", "duplicate key"),
        ("name: a\n1: x\n", 'unknown key "1"'),
    ],
    ids=[
        "empty",
        "list",
        "scalar",
        "two-documents",
        "tab",
        "complex-key",
        "unclosed",
        "dup",
        "int-key",
    ],
)
def test_documents_that_are_not_a_profile(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        load_profile(path)
    lines = [line.removeprefix(f"{path}:") for line in info.value.lines()]
    assert any(expected in line for line in lines), lines
    for line in info.value.lines():
        assert line.startswith(f"{path}:") and "\n" not in line
