"""The failure-signature catalogue against real logs from public issue trackers.

Every file in tests/data/logs/captures.yaml is log text copied verbatim from the URL
it names; the entry says which verdict class a correct diagnosis gives and which
signature must name the cause.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml

from provisioner import signatures
from provisioner.diagnosis import diagnose, match_log
from provisioner.signatures import TARGETS, CatalogueError, catalogue, verdict_class

LOGS = Path(__file__).resolve().parent / "data" / "logs"
CAPTURES: list[dict[str, str | None]] = yaml.safe_load((LOGS / "captures.yaml").read_text("utf-8"))
# An issue or pull request thread, or (for two documentation samples) a file on GitHub.
ISSUE_URL = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/((issues|pull)/\d+|blob/\S+\.md)$")


def _ids(text: str) -> list[str]:
    """The catalogue entries (not the diagnosis families) found in ``text``."""
    catalogued = {s.id for s in catalogue()}
    return [m.signature.id for m in match_log(text) if m.signature.id in catalogued]


@pytest.mark.parametrize("capture", CAPTURES, ids=[str(c["file"]) for c in CAPTURES])
def test_real_log_gets_its_verdict_and_cause(capture: dict[str, str | None]) -> None:
    text = (LOGS / str(capture["file"])).read_text("utf-8")
    matches = match_log(text)
    assert verdict_class(matches) == capture["verdict"], [m.signature.id for m in matches]
    if capture["signature"] is not None:
        assert capture["signature"] in [m.signature.id for m in matches]


def test_the_captures_are_many_real_and_cited() -> None:
    files = [str(c["file"]) for c in CAPTURES]
    assert len(files) == len(set(files))
    for c in CAPTURES:
        assert ISSUE_URL.match(str(c["source"])), c
        assert c["verdict"] in ("failure", "warning", "benign", "none"), c
        assert (LOGS / str(c["file"])).is_file(), c
    failing = [c for c in CAPTURES if c["verdict"] == "failure"]
    assert len(failing) >= 60, f"only {len(failing)} real failure logs"


def test_every_signature_cites_a_url_and_is_seen_in_a_capture() -> None:
    used = {i for c in CAPTURES for i in _ids((LOGS / str(c["file"])).read_text("utf-8"))}
    for sig in catalogue():
        assert sig.sources and all(s.startswith("https://") for s in sig.sources), sig.id
        assert sig.id in used, f"{sig.id}: no capture in tests/data/logs proves it"


CORPUS = LOGS.parent / "corpus" / "logs"


def _plain(text: str) -> set[tuple[str, int]]:
    """Every catalogue signature found by a plain regex search of the whole text."""
    low = signatures._lowered(signatures._normalise(text))
    out = set()
    for sig in catalogue():
        m = signatures._first(sig.pattern, low, sig.lines)
        if m is None or (sig.requires is not None and sig.requires.search(low) is None):
            continue
        out.add((sig.id, low.count("\n", 0, m.start()) + 1))
    return out


@pytest.mark.parametrize("chunk", [8 << 20, 97])
def test_the_streamed_prefilter_finds_what_the_plain_regex_finds(chunk: int) -> None:
    """Reading in chunks (97 bytes: lines and CRLFs cut at every place) and running the
    regexes only on lines that hold an anchor must not change any catalogue result."""
    files = [LOGS / str(c["file"]) for c in CAPTURES] + sorted(CORPUS.glob("*.txt"))
    catalogued = {s.id for s in catalogue()}
    for path in files:
        text = path.read_text("utf-8")
        got = diagnose(io.BytesIO(text.encode()), chunk=chunk)
        streamed = {(m.signature.id, m.line) for m in got.matches if m.signature.id in catalogued}
        assert streamed == _plain(text), path.name


@pytest.mark.parametrize(
    ("pattern", "needles"),
    [
        (r"directml\s+device\s+enumeration", ("enumeration",)),
        (r"code=46\b|all\s+cuda-capable", ("code=46", "cuda-capable")),
        (r"(py)?torch-directml(?![\w-])", ("torch-directml",)),
        (r"adapters?\s+found", ("adapter",)),  # the optional "s" is not part of it
        (r"\[winerror\s+12[67]\]", ("[winerror",)),
        (r"ab\s+cd", None),  # no run of 3 literal characters: no prefilter
    ],
)
def test_needles_are_literals_every_match_must_contain(
    pattern: str, needles: tuple[str, ...] | None
) -> None:
    assert signatures._needles(pattern) == needles


def test_docs_list_every_signature() -> None:
    docs = (LOGS.parents[2] / "docs" / "checks.md").read_text("utf-8")
    for sig in catalogue():
        assert f"`{sig.id}`" in docs, sig.id


# --- line anchoring ---------------------------------------------------------------


def test_pieces_of_a_signature_on_different_lines_do_not_match() -> None:
    """A healthy log that happens to hold the words on separate lines is not a failure."""
    healthy = (
        "DirectML device enumeration: found\n"
        "0 compatible adapters means nothing here; the next run found 1 compatible adapters.\n"
        "all CUDA-capable\n"
        "devices are busy or unavailable: a phrase from the docs, split by a pager\n"
        "NVIDIA-SMI has failed because it couldn't\n"
        "communicate with the NVIDIA driver\n"
        "Expected one of cpu, cuda\n"
        "device type at start of device string: dml\n"
    )
    assert match_log(healthy) == []
    assert verdict_class(match_log(healthy)) == "none"


def test_the_same_pieces_on_one_line_do_match() -> None:
    """The counterpart of the test above: joined, the first pair is a failure."""
    assert _ids("DirectML device enumeration: found 0 compatible adapters.\n") == ["dml.no-adapter"]


def test_a_signature_that_says_it_spans_lines_matches_a_folded_message() -> None:
    text = (LOGS / "torch_directml_cpu_fallback_warning_windows.txt").read_text("utf-8")
    assert "currently supported on the \nDML backend" in text  # folded by the terminal
    assert _ids(text) == ["dml.cpu-fallback"]


def test_a_multi_line_signature_is_bounded_by_its_line_count() -> None:
    far = "is not currently supported on the\n\n\nDML backend and will fall back to run on the CPU"
    assert _ids(far) == []


def test_requires_needs_the_second_pattern_somewhere_in_the_log() -> None:
    """A bare segfault is not a DirectML crash; in a torch_directml log it is."""
    assert "dml.segfault-first-tensor" not in _ids(">>> import numpy\nSegmentation fault\n")
    dml = ">>> import torch_directml\n>>> t.to(dml)\nSegmentation fault\n"
    assert "dml.segfault-first-tensor" in _ids(dml)


def test_numa_benign_line_as_printed_by_tensorflow() -> None:
    line = (
        "2023-07-12 14:59:25.260129: I tensorflow/compiler/xla/stream_executor/cuda/"
        "cuda_gpu_executor.cc:981] could not open file to read NUMA node: "
        "/sys/bus/pci/devices/0000:01:00.0/numa_node\n"
    )
    assert _ids(line) == ["benign.numa"]


def test_tfdml_python_signature_does_not_fire_on_the_plugin() -> None:
    plugin = "ERROR: No matching distribution found for tensorflow-directml-plugin\n"
    assert _ids(plugin) == ["pip.tfdml-plugin-python"]
    tfdml = "ERROR: No matching distribution found for tensorflow-directml\n"
    assert _ids(tfdml) == ["pip.tfdml-python"]


# --- context-dependent fixes ---------------------------------------------------------

DESTRUCTIVE = re.compile(r"apt(-get)?\s+(purge|remove)|dnf\s+remove|pacman\s+-R|rm\s+-rf")


def test_no_context_free_fix_carries_a_destructive_command() -> None:
    for sig in catalogue():
        assert not DESTRUCTIVE.search(sig.fix), sig.id


def test_driver_unreachable_fix_depends_on_the_target() -> None:
    [m] = match_log("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")
    sig = m.signature
    assert "apt purge" in sig.fix_for("wsl2")
    assert not DESTRUCTIVE.search(sig.fix_for("linux"))
    assert "do NOT remove" in sig.fix_for(None)
    assert set(sig.fixes) <= set(TARGETS)


# --- the catalogue's own rules -----------------------------------------------------


@pytest.mark.parametrize("pattern", ["foo.*bar", "foo.+bar", r"a\S*b", r"a[^x]+b", r"a\w{2,}b"])
def test_unbounded_repeats_are_refused(pattern: str) -> None:
    entry = {
        "id": "t.x",
        "sources": ["https://example.org/1"],
        "pattern": pattern,
        "severity": "fail",
        "meaning": "m",
        "fix": "f",
    }
    with pytest.raises(CatalogueError, match="unbounded repeat"):
        signatures._signature(entry)


def test_a_signature_without_source_is_refused() -> None:
    entry = {"id": "t.x", "pattern": "a", "severity": "fail", "meaning": "m", "fix": "f"}
    with pytest.raises(CatalogueError, match="no sources"):
        signatures._signature(entry)


@pytest.mark.timeout(60)
def test_a_multi_megabyte_log_is_matched_in_bounded_time() -> None:
    """Near misses for every signature, long lines without newlines, long whitespace
    runs and CR-only progress bars: the shapes that make backtracking regexes explode."""
    near_misses = "\n".join(
        [
            "DirectML device enumeration: found " + " " * 5000 + "x",
            "Expected one of cpu, cuda" + ", cuda" * 2000,
            "ldconfig: " + "a" * 20000,
            "tfdml_plugin.dll " + "n" * 20000,
            "No matching distribution found for tensorflow-directml" + "-" * 5000,
            "progress 1%\r" * 2000,
            "torch_directml_native " * 3000,
        ]
    )
    log = (near_misses + "\n") * 40  # about 5 MB
    assert len(log) > 4_000_000
    assert _ids(log + "Segmentation fault\n") == ["dml.segfault-first-tensor"]
