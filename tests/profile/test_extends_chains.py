"""``extends`` beyond one level: chains across folders, package lists merged by name
through every level, cycles of any length, and what each file may set to what."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile

ROOT = """\
name: root
target: {os: linux}
environment:
  manager: conda
  name: root
  python: "3.11"
  channels: [conda-forge, defaults]
  conda: [numpy, scipy, pandas]
  pip: [requests]
  variables: {A: "1", B: "2"}
smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}
"""
MID = """\
extends: deeper/root.yaml
environment:
  channels: [conda-forge]
  conda: ["!scipy", "numpy>=1.26"]
  variables: {B: "3", C: "4"}
"""
TOP = """\
extends: sub/mid.yaml
name: top
environment:
  name: top
  conda: [scipy, "!pandas"]
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """top.yaml -> sub/mid.yaml -> sub/deeper/root.yaml (each path relative to its file)."""
    write(tmp_path, {"sub/deeper/root.yaml": ROOT, "sub/mid.yaml": MID, "top.yaml": TOP})
    return tmp_path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        load_profile(path)
    return [str(d) for d in info.value.diagnostics]


def test_a_three_file_chain_merges_each_level_in_order(chain: Path) -> None:
    env = load_profile(chain / "top.yaml").profile.environment
    # numpy re-pinned in place by mid; scipy removed by mid and added back by top (at
    # the end); pandas removed by top; pip untouched; channels replaced by mid.
    assert env.conda == ("numpy>=1.26", "scipy")
    assert env.pip == ("requests",)
    assert env.channels == ("conda-forge",)
    assert dict(env.variables) == {"A": "1", "B": "3", "C": "4"}
    assert (env.name, env.manager.value) == ("top", "conda")


@pytest.mark.parametrize(
    ("key", "file", "line", "col"),
    [
        ("name", "top.yaml", 2, 7),
        ("environment.name", "top.yaml", 4, 9),
        ("environment.conda[scipy]", "top.yaml", 5, 11),
        ("environment.conda[numpy]", "sub/mid.yaml", 4, 21),
        ("environment.channels[0]", "sub/mid.yaml", 3, 14),
        ("environment.variables.B", "sub/mid.yaml", 5, 18),
        ("environment.variables.A", "sub/deeper/root.yaml", 10, 18),
        ("environment.pip[requests]", "sub/deeper/root.yaml", 9, 9),
        ("target.os", "sub/deeper/root.yaml", 2, 14),
    ],
)
def test_every_value_keeps_the_file_and_place_that_set_it(
    chain: Path, key: str, file: str, line: int, col: int
) -> None:
    origin = load_profile(chain / "top.yaml").origins[key]
    assert (Path(origin.file).resolve(), origin.line, origin.col) == (
        (chain / file).resolve(),
        line,
        col,
    )


def test_removed_and_default_values_have_no_origin(chain: Path) -> None:
    origins = load_profile(chain / "top.yaml").origins
    assert "environment.conda[pandas]" not in origins
    assert "environment.channels[1]" not in origins  # mid replaced the list
    assert "smoke_test.steps" not in origins


def test_an_error_in_the_middle_file_points_into_it(chain: Path) -> None:
    write(chain, {"sub/mid.yaml": MID.replace('"numpy>=1.26"', '"numpy>>1"')})
    (error,) = errors_of(chain / "top.yaml")
    assert error.startswith(f"{chain / 'sub' / 'mid.yaml'}:4:21: error: environment.conda[")


@pytest.mark.parametrize(
    ("files", "start", "expected"),
    [
        pytest.param(
            {"self.yaml": "extends: self.yaml\nname: s\n"},
            "self.yaml",
            "self.yaml:1:10: error: extends: extends cycle: self.yaml -> self.yaml",
            id="self",
        ),
        pytest.param(
            {
                "a.yaml": "extends: b.yaml\nname: a\n",
                "b.yaml": "extends: c.yaml\n",
                "c.yaml": "extends: [a.yaml]\n",
            },
            "a.yaml",
            "c.yaml:1:11: error: extends: extends cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml",
            id="three-long",
        ),
        pytest.param(
            {
                "a.yaml": "extends: [ok.yaml, sub/b.yaml]\nname: a\n",
                "ok.yaml": "name: ok\n",
                "sub/b.yaml": "extends: ../a.yaml\n",
            },
            "a.yaml",
            "b.yaml:1:10: error: extends: extends cycle: a.yaml -> b.yaml -> a.yaml",
            id="through-a-folder",
        ),
        pytest.param(
            {"a.yaml": "extends: nowhere.yaml\nname: a\n"},
            "a.yaml",
            'a.yaml:1:10: error: extends: cannot read extended profile "nowhere.yaml": '
            "No such file or directory (fix: give an existing file, relative to this one)",
            id="missing",
        ),
        pytest.param(
            {"a.yaml": "extends: https://example.com/base.yaml\nname: a\n"},
            "a.yaml",
            'a.yaml:1:10: error: extends: cannot read extended profile "https://example.com/',
            id="url-is-not-fetched",
        ),
        pytest.param(
            {"a.yaml": "extends: sub\nname: a\n", "sub/x.yaml": "name: x\n"},
            "a.yaml",
            'a.yaml:1:10: error: extends: cannot read extended profile "sub": not a regular '
            "file (a folder)",
            id="folder",
        ),
        pytest.param(
            {"a.yaml": "extends: {file: b.yaml}\n" + ROOT},
            "a.yaml",
            "a.yaml:1:10: error: extends: extends takes a file path or a list of paths",
            id="mapping",
        ),
    ],
)
def test_broken_extends_is_one_error_in_the_file_that_names_it(
    tmp_path: Path, files: dict[str, str], start: str, expected: str
) -> None:
    write(tmp_path, files)
    (error,) = errors_of(tmp_path / start)
    assert Path(error.split(":", 1)[0]).name == expected.split(":", 1)[0].rsplit("/", 1)[-1]
    assert error.split(":", 1)[1].startswith(expected.split(":", 1)[1]), error


@pytest.mark.parametrize(
    ("child", "conda"),
    [
        ('conda: ["!NumPy"]', ("scipy", "pandas")),  # conda names compare case-insensitively
        ('conda: ["!numpy", "numpy=2"]', ("scipy", "pandas", "numpy=2")),
        ('conda: ["conda-forge::numpy"]', ("conda-forge::numpy", "scipy", "pandas")),
        ('conda: ["numpy[build=*cuda*]"]', ("numpy[build=*cuda*]", "scipy", "pandas")),
        ("conda: []", ("numpy", "scipy", "pandas")),  # an empty list changes nothing
    ],
)
def test_conda_entries_merge_by_package_name(
    tmp_path: Path, child: str, conda: tuple[str, ...]
) -> None:
    write(
        tmp_path,
        {"root.yaml": ROOT, "child.yaml": f"extends: root.yaml\nenvironment:\n  {child}\n"},
    )
    assert load_profile(tmp_path / "child.yaml").profile.environment.conda == conda


@pytest.mark.parametrize(
    ("child", "pip"),
    [
        ('pip: ["Requests>=2"]', ("Requests>=2",)),
        ('pip: ["!REQUESTS"]', ()),
        ('pip: ["torch_directml", "torch-directml==0.2.5.dev240914"]', None),
    ],
)
def test_pip_entries_merge_by_normalised_name(
    tmp_path: Path, child: str, pip: tuple[str, ...] | None
) -> None:
    write(
        tmp_path,
        {"root.yaml": ROOT, "child.yaml": f"extends: root.yaml\nenvironment:\n  {child}\n"},
    )
    if pip is None:  # the same package twice in one file: the second re-pins the first
        got = load_profile(tmp_path / "child.yaml").profile.environment.pip
        assert got == ("requests", "torch-directml==0.2.5.dev240914")
    else:
        assert load_profile(tmp_path / "child.yaml").profile.environment.pip == pip


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        (
            'environment:\n  pip: ["!numpy"]\n',
            '3:9: error: environment.pip[1]: "!numpy" removes nothing: no extended profile '
            'lists "numpy" in pip',
        ),
        ("environment: null\n", "2:14: error: environment: expected a mapping of keys, got None"),
        (
            "environment:\n  variables: null\n",
            "3:14: error: environment.variables: expected a mapping of keys, got None",
        ),
        (
            "environment:\n  conda: numpy\n",
            '3:10: error: environment.conda: expected a list, got "numpy"',
        ),
        (
            "enviroment:\n  name: x\n",
            '2:1: error: enviroment: unknown key "enviroment" (did you mean "environment"?)',
        ),
    ],
    ids=["remove-unknown", "null-section", "null-variables", "scalar-list", "typo"],
)
def test_a_child_that_breaks_the_merge_is_an_error_in_the_child(
    tmp_path: Path, child: str, expected: str
) -> None:
    write(tmp_path, {"root.yaml": ROOT, "child.yaml": "extends: root.yaml\n" + child})
    assert errors_of(tmp_path / "child.yaml") == [f"{tmp_path / 'child.yaml'}:{expected}"]


@pytest.mark.parametrize(
    "extends",
    ["[]", "[root.yaml, root.yaml]", "[./root.yaml, sub/../root.yaml]"],
    ids=["empty-list", "twice", "two-spellings"],
)
def test_harmless_extends_lists_load(tmp_path: Path, extends: str) -> None:
    """An empty list extends nothing; a file named twice merges as once."""
    body = ROOT if extends == "[]" else "name: child\n"
    write(
        tmp_path, {"root.yaml": ROOT, "sub/.keep": "", "child.yaml": f"extends: {extends}\n{body}"}
    )
    env = load_profile(tmp_path / "child.yaml").profile.environment
    assert env.conda == ("numpy", "scipy", "pandas")
