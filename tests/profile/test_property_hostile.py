"""Property test over the hostile classes: YAML aliases, special files, NUL and control
characters, nesting depth, non-finite and huge numbers, variable names; through the
loader and, when valid, the renderer. No exit 3, no traceback, no hang: each example
goes through ``check_path`` (tests/profile/test_property.py) in this process, and the
CLI is driven for a sample in ``test_cli_never_exits_3``.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.cli import main
from tests.profile.test_property import DATA, check_path

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SPECIAL = ["dev-zero", "dev-urandom", "fifo", "folder", "loop", "self", "missing", "big"]
DANGEROUS_NAMES = [
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "IFS",
    "PS4",
    "PROMPT_COMMAND",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "PATH",
    "UID",
    "A=B",
    "1A",
    "",
    "a b",
    "ß",
    "PYTHONPATH",
]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([".inf", "-.inf", ".nan", "1e400", "0x10", "1_000"]),
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=12),
    st.sampled_from(
        ["\x00", "a\x00b", "\r", "\u2028", "\u202e", "\x1b[2J", "'\u2019\u0112", "$(x)"]
    ),
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="profile-hostile-"))
    os.mkfifo(root / "fifo")
    (root / "folder").mkdir()
    (root / "loop").symlink_to("loop")
    (root / "big").write_text("#" * (1024 * 1024 + 10), encoding="utf-8")
    (root / "dev-zero").symlink_to("/dev/zero")
    (root / "dev-urandom").symlink_to("/dev/urandom")
    yield root
    for p in sorted(root.rglob("*"), reverse=True):
        if p.is_dir() and not p.is_symlink():
            p.rmdir()
        else:
            p.unlink()
    root.rmdir()


@st.composite
def hostile_document(draw: st.DrawFn) -> tuple[str, str]:
    """(YAML text, a note of what was done) for a shipped profile with hostile changes."""
    data: Any = copy.deepcopy(draw(st.sampled_from(DATA)))
    data.pop("extends", None)
    env = data.setdefault("environment", {})
    notes = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["text", "variables", "number", "extends", "depth"]))
        notes.append(op)
        if op == "text":
            field = draw(
                st.sampled_from(
                    [
                        "name",
                        "description",
                        "channels",
                        "conda",
                        "pip",
                        "env-name",
                        "python",
                        "notes",
                        "index_url",
                    ]
                )
            )
            value = draw(HOSTILE_TEXT)
            if field in ("name", "description"):
                data[field] = value
            elif field in ("channels", "conda", "pip"):
                env[field] = [value]
            elif field == "env-name":
                env["name"] = value
            elif field == "python":
                env["python"] = value
            elif field == "notes":
                data.setdefault("requires", {}).setdefault("gpu", {})["notes"] = {"nvidia": value}
            else:
                env["index_url"] = value
        elif op == "variables":
            keys = draw(
                st.lists(st.one_of(st.sampled_from(DANGEROUS_NAMES), HOSTILE_TEXT), max_size=3)
            )
            env["variables"] = {k: draw(HOSTILE_TEXT) for k in keys}
        elif op == "number":
            smoke = data.setdefault("smoke_test", {})
            key = draw(st.sampled_from(["min_loss_drop", "steps", "timeout_s"]))
            smoke[key] = draw(NUMBERS)
        elif op == "extends":
            data["extends"] = draw(st.sampled_from(SPECIAL))
        else:
            leaf: Any = "x"
            for _ in range(draw(st.integers(20, 80))):
                leaf = [leaf]
            data["description"] = leaf
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)
    if draw(st.booleans()):
        text += draw(
            st.sampled_from(
                [
                    "zz: &a [x, x, x, x, x, x, x, x, x, x]\n"
                    "zy: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "zx: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                    "zw: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                    "zv: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
                    "zz: &r [*r]\n",
                    "zz: " + "[" * draw(st.integers(30, 5000)) + "\n",
                    'zz: "\\0"\n',
                ]
            )
        )
        notes.append("tail")
    return text, "+".join(notes)


@SETTINGS
@given(doc=hostile_document())
def test_hostile_profiles_validate_or_render_cleanly(folder: Path, doc: tuple[str, str]) -> None:
    text, _ = doc
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_path(path)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=hostile_document())
def test_cli_never_exits_3(
    folder: Path, doc: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    text, _ = doc
    path = folder / "cli.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for argv in (["validate", str(path)], ["render", str(path), "-o", str(folder / "out")]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code in (0, 2), (argv, err)
        assert "Traceback" not in err and "internal error" not in err
