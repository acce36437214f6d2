"""The loader: extends merging by package name, removal, origins, shipped profiles."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from provisioner.errors import ValidationFailed
from provisioner.profile import default_profile_path, load_profile

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "profiles").glob("*.yaml")) + sorted(
    (REPO / "profiles" / "examples").glob("*.yaml")
)

BASE = """\
name: base
target: {os: linux}
environment:
  manager: conda
  name: base
  python: "3.11"
  conda: [numpy, "scipy>=1.10", matplotlib]
  pip: ["torch==2.4.1", requests]
  variables: {A: "1", B: "2"}
smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_profiles_are_valid_and_carry_the_schema_header(path: Path) -> None:
    resolved = load_profile(path)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    depth = "../../" if path.parent.name == "examples" else "../"
    assert first == f"# yaml-language-server: $schema={depth}schema/profile.schema.json"
    assert resolved.origins  # every shipped value knows its file


def test_embedded_default_is_byte_identical_to_profiles_cpu() -> None:
    assert default_profile_path().read_bytes() == (REPO / "profiles" / "cpu.yaml").read_bytes()
    cpu = load_profile(default_profile_path()).profile
    assert (cpu.target.os.value, cpu.environment.manager.value, cpu.environment.python) == (
        "linux",
        "venv",
        "3.11",
    )
    assert cpu.environment.pip == ("torch==2.13.0", "numpy")
    assert cpu.requires.gpu.api.value == "none"
    assert (cpu.smoke_test.device.value, cpu.smoke_test.require_accelerator) == ("cpu", False)


def test_extends_merges_package_lists_by_name(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "team/child.yaml",
        """\
        extends: ../base.yaml
        name: child
        environment:
          conda: ["numpy>=1.26,<2", pillow, "!matplotlib"]
          pip: ["Torch==2.5.1"]
          variables: {B: "3"}
        """,
    )
    resolved = load_profile(child)
    env = resolved.profile.environment
    # re-pinned in place, appended, removed; untouched entries keep their order
    assert env.conda == ("numpy>=1.26,<2", "scipy>=1.10", "pillow")
    assert env.pip == ("Torch==2.5.1", "requests")  # pip names compare normalised
    assert env.variables == {"A": "1", "B": "3"}
    assert resolved.profile.name == "child"
    assert [p.name for p in resolved.sources] == ["base.yaml", "child.yaml"]


def test_origins_point_at_the_file_and_line_that_set_each_value(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "child.yaml",
        """\
        extends: base.yaml
        name: child
        environment:
          conda: [pillow]
        """,
    )
    origins = load_profile(child).origins
    assert (Path(origins["name"].file).name, origins["name"].line) == ("child.yaml", 2)
    assert (Path(origins["environment.python"].file).name, origins["environment.python"].line) == (
        "base.yaml",
        6,
    )
    numpy = origins["environment.conda[numpy]"]
    pillow = origins["environment.conda[pillow]"]
    assert (Path(numpy.file).name, numpy.line, numpy.col) == ("base.yaml", 7, 11)
    assert (Path(pillow.file).name, pillow.line, pillow.col) == ("child.yaml", 4, 11)
    assert "environment.variables.A" in origins
    assert "smoke_test.steps" not in origins  # a default has no origin


def test_extends_list_merges_left_to_right(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    write(tmp_path, "gpu.yaml", "environment:\n  pip: ['torch==2.0.0']\n")
    write(tmp_path, "data.yaml", "environment:\n  pip: [pandas]\n")
    child = write(tmp_path, "child.yaml", "extends: [base.yaml, gpu.yaml, data.yaml]\n")
    assert load_profile(child).profile.environment.pip == ("torch==2.0.0", "requests", "pandas")


def test_validation_happens_after_merging(tmp_path: Path) -> None:
    # the base alone lacks required fields; the merge is complete and valid
    write(tmp_path, "partial.yaml", "target: {os: linux}\n")
    child = write(
        tmp_path,
        "child.yaml",
        """\
        extends: partial.yaml
        name: c
        environment: {manager: venv, name: c, python: "3.11"}
        smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}
        """,
    )
    assert load_profile(child).profile.target.os.value == "linux"


def test_missing_extended_file_is_reported_at_the_extends_line(tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "name: c\nextends:\n  - nope.yaml\n")
    with pytest.raises(ValidationFailed) as info:
        load_profile(child)
    (d,) = info.value.diagnostics
    assert d.position is not None
    assert (Path(d.position.file).name, d.position.line, d.position.col) == ("child.yaml", 3, 5)
    assert 'cannot read extended profile "nope.yaml"' in d.message


def test_unreadable_profile_is_one_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ValidationFailed) as info:
        load_profile(bad)
    assert "not UTF-8" in info.value.diagnostics[0].message
    with pytest.raises(ValidationFailed) as info:
        load_profile(tmp_path / "absent.yaml")
    assert "No such file" in info.value.diagnostics[0].message


def test_content_hash_ignores_comments_and_formatting(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", BASE)
    b = write(tmp_path, "b.yaml", "# a comment\n" + BASE.replace("name: base\n", "name:   base\n"))
    assert load_profile(a).content_hash == load_profile(b).content_hash
    c = write(tmp_path, "c.yaml", BASE.replace('"3.11"', '"3.12"'))
    assert load_profile(a).content_hash != load_profile(c).content_hash
