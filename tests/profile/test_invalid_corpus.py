"""Every broken profile in tests/data/invalid reports exactly the errors it expects.

Each file starts with one ``# expect: [FILE:]LINE:COL: message fragment`` line per
error (FILE, relative to the case, when the error is in a file it extends). The
test checks line, column and fragment of each, and that no other error appears.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.errors import Diagnostic, ValidationFailed
from provisioner.profile import load_profile

CORPUS = Path(__file__).resolve().parent.parent / "data" / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))
EXPECT_RE = re.compile(r"^# expect: (?:(?P<file>[^:]+):)?(?P<line>\d+):(?P<col>\d+): (?P<frag>.+)$")


def expectations(case: Path) -> list[tuple[Path, int, int, str]]:
    out = []
    for line in case.read_text(encoding="utf-8").splitlines():
        m = EXPECT_RE.match(line)
        if m:
            file = (case.parent / m["file"]).resolve() if m["file"] else case.resolve()
            out.append((file, int(m["line"]), int(m["col"]), m["frag"]))
    return out


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_profile_reports_expected_errors(case: Path) -> None:
    expected = expectations(case)
    assert expected, f"{case.name} has no '# expect:' line"
    with pytest.raises(ValidationFailed) as info:
        load_profile(case)
    got: list[Diagnostic] = list(info.value.diagnostics)
    unmatched = list(got)
    for file, line, col, frag in expected:
        match = next(
            (
                d
                for d in unmatched
                if d.position is not None
                and Path(d.position.file).resolve() == file
                and (d.position.line, d.position.col) == (line, col)
                and frag in d.message
            ),
            None,
        )
        assert match is not None, (
            f"{case.name}: expected {file.name}:{line}:{col}: ...{frag}...\n"
            f"got:\n" + "\n".join(map(str, got))
        )
        unmatched.remove(match)
    assert not unmatched, f"{case.name}: unexpected errors:\n" + "\n".join(map(str, unmatched))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_every_diagnostic_prints_as_one_compiler_line(case: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_profile(case)
    for line in info.value.lines():
        assert "\n" not in line
        assert re.match(r"^[^:]+:\d+:\d+: error: ", line), line
