"""Property test: thousands of generated and mutated profiles never crash the loader
or the renderer.

Every outcome is either a valid profile, which then renders every artifact, or
:class:`ValidationFailed` whose every diagnostic has a file, a line and a column.
Inputs are the shipped profiles mutated at the text level (deleted, duplicated and
junk lines, random bytes, truncation) and at the data level (deleted keys, swapped
types), arbitrary text, and the hostile classes of tests/profile/test_property_hostile.py
(aliases, special files, NUL and control characters, depth, non-finite numbers,
variable names). 4 x 700 examples here.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.errors import ValidationFailed
from provisioner.profile import ResolvedProfile, load_profile
from provisioner.render import RenderContext
from provisioner.render.folder import artifacts

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "profiles").glob("*.yaml")) + sorted(
    (REPO / "profiles" / "examples").glob("*.yaml")
)
TEXTS = [p.read_text(encoding="utf-8") for p in SHIPPED]
DATA = [yaml.safe_load(t) for t in TEXTS]
SETTINGS = settings(
    max_examples=700,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JUNK = [
    "\t",
    ": :",
    "- - -",
    "{",
    "]",
    "&a",
    "*a",
    "!!python/object:os.system",
    "<<: {}",
    "? x",
    "'",
    '"',
    "%YAML 1.1",
    "---",
    "...",
    "extends: x.yaml",
    "extends: [",
    "python: 3.10",
    "pip: ['!torch']",
    "\x00",
    "\x07",
    "\ufeff",
    "~",
    "|",
    ">-",
]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A profiles/ + profiles/examples/ tree so a mutated example can still extend its base."""
    root = Path(tempfile.mkdtemp(prefix="profile-fuzz-"))
    (root / "profiles" / "examples").mkdir(parents=True)
    for path in SHIPPED:
        if path.parent.name == "profiles":
            shutil.copy(path, root / "profiles" / path.name)
    yield root / "profiles" / "examples"
    shutil.rmtree(root)


def check(folder: Path, content: str | bytes) -> None:
    path = folder / "fuzz.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    check_path(path)


def check_path(path: Path) -> None:
    """Load ``path``: valid (then every artifact renders) or positioned one-line errors."""
    try:
        resolved = load_profile(path)
    except ValidationFailed as e:
        assert e.diagnostics, "ValidationFailed without a diagnostic"
        for d in e.diagnostics:
            assert d.position is not None, f"no position: {d}"
            assert d.position.file and d.position.line >= 1 and d.position.col >= 1, str(d)
            assert str(d).isprintable(), repr(str(d))
        return
    render_all(resolved)


def render_all(resolved: ResolvedProfile) -> None:
    """Every artifact the registry has for ``resolved`` (no lock), as ``render`` does."""
    ctx = RenderContext(resolved, "0+fuzz")
    for artifact in artifacts(resolved, ctx):
        text = artifact.render(ctx)
        assert "\x00" not in text
        if artifact.name.endswith(".ps1"):
            assert text.isascii(), artifact.name


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "junk", "indent", "dedent", "chars"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "junk":
            lines.insert(i, draw(st.sampled_from(JUNK)) + draw(st.text(max_size=8)))
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
        else:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.text(max_size=6)) + lines[i][j:]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["3.10", "3.7", "!numpy", "wsl2", "cuda", "dml", "../x.yaml", "a b"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def mutated_data(draw: st.DrawFn) -> str:
    import copy

    data: Any = copy.deepcopy(draw(st.sampled_from(DATA)))
    for _ in range(draw(st.integers(1, 4))):
        # walk to a random mapping, then delete, replace or add a key
        node = data
        for _depth in range(draw(st.integers(0, 3))):
            children = (
                [v for v in node.values() if isinstance(v, dict)] if isinstance(node, dict) else []
            )
            if not children:
                break
            node = draw(st.sampled_from(children))
        if not isinstance(node, dict) or not node:
            continue
        key = draw(st.sampled_from(sorted(node)))
        op = draw(st.sampled_from(["delete", "swap", "add"]))
        if op == "delete":
            del node[key]
        elif op == "swap":
            node[key] = draw(values)
        else:
            node[draw(st.text(max_size=12))] = draw(values)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@SETTINGS
@given(text=mutated_text())
def test_mutated_profile_text_never_crashes(workdir: Path, text: str) -> None:
    check(workdir, text)


@SETTINGS
@given(text=mutated_data())
def test_mutated_profile_data_never_crashes(workdir: Path, text: str) -> None:
    check(workdir, text)


@SETTINGS
@given(blob=st.binary(max_size=300))
def test_random_bytes_never_crash(workdir: Path, blob: bytes) -> None:
    check(workdir, blob)


@SETTINGS
@given(prefix=st.sampled_from(TEXTS), cut=st.integers(0, 2000), tail=st.binary(max_size=40))
def test_truncated_and_corrupted_profiles_never_crash(
    workdir: Path, prefix: str, cut: int, tail: bytes
) -> None:
    check(workdir, prefix.encode("utf-8")[:cut] + tail)
