"""Two small translations apply relies on: ``conda-meta/history`` (what
``conda env export --from-history`` reads back: the specs the profile asked for, by
package name) and the pip part's install failures (one cause and one fix from the
installer's output).

The history format is conda's own (``conda/history.py``,
https://github.com/conda/conda/blob/main/conda/history.py): ``==> date <==``
revisions, ``+``/``-`` dists and ``# update specs: [...]`` / ``# remove specs:``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.env.conda_history import spec_name, write_history
from provisioner.env.pip_failures import explain_install_failure
from provisioner.errors import ExitCode

# A history as conda 23 writes it for `conda create -n x python=3.11 numpy` and then
# `conda install -c conda-forge scipy` (dists shortened).
CONDA_WRITTEN = """\
==> 2024-03-01 10:00:00 <==
# cmd: /opt/conda/bin/conda create -n x python=3.11 numpy
# conda version: 23.11.0
+defaults/linux-64::python-3.11.7-h955ad1f_0
+defaults/linux-64::numpy-1.26.3-py311h08b1b3b_0
# update specs: ['python=3.11', 'numpy']
==> 2024-03-02 09:30:00 <==
# cmd: /opt/conda/bin/conda install -c conda-forge scipy
# conda version: 23.11.0
+conda-forge/linux-64::scipy-1.12.0-py311h64a7726_2
# update specs: ['conda-forge::scipy']
"""


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("numpy", "numpy"),
        ("NumPy>=1.19,<1.20", "numpy"),
        ("numpy 1.19.*", "numpy"),
        ("numpy=1.19=py39_0", "numpy"),
        ("conda-forge::numpy>=1.26", "numpy"),
        ("pytorch::pytorch-cuda=12.1", "pytorch-cuda"),
        ("https://conda.example/chan::scipy", "scipy"),
        ("numpy[version='>=1.19']", "numpy"),
        ("  python=3.11 ", "python"),
    ],
)
def test_the_spec_name_is_the_package_not_its_channel(spec: str, name: str) -> None:
    assert spec_name(spec) == name


def prefix_with(tmp_path: Path, *records: tuple[str, str, str], history: str = "") -> Path:
    prefix = tmp_path / "env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    for name, version, build in records:
        doc = {"name": name, "version": version, "build": build}
        doc |= {"channel": "https://conda.anaconda.org/conda-forge", "subdir": "linux-64"}
        (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(doc))
    if history:
        (meta / "history").write_text(history)
    return prefix


def revisions(prefix: Path) -> list[list[str]]:
    out: list[list[str]] = []
    history = prefix / "conda-meta" / "history"
    for line in history.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("==> "):
            out.append([])
        elif out:
            out[-1].append(line)
    return out


def test_channel_prefixed_specs_are_kept_apart_and_removed_by_name(tmp_path: Path) -> None:
    prefix = prefix_with(tmp_path, ("numpy", "1.26.3", "h0"), ("scipy", "1.12.0", "h0"))
    specs = ["python=3.11", "conda-forge::numpy", "conda-forge::scipy"]
    assert write_history(prefix, specs, "provision apply p.yaml")
    assert not write_history(prefix, specs, "provision apply p.yaml")
    assert write_history(prefix, ["python=3.11", "conda-forge::numpy"], "provision apply p.yaml")
    last = revisions(prefix)[-1]
    assert last[-2:] == [
        "# update specs: ['python=3.11', 'conda-forge::numpy']",
        "# remove specs: ['conda-forge::scipy']",
    ]


def test_a_history_conda_wrote_is_continued_not_rewritten(tmp_path: Path) -> None:
    prefix = prefix_with(
        tmp_path,
        ("python", "3.11.7", "h955ad1f_0"),
        ("numpy", "1.26.4", "py311h1"),
        history=CONDA_WRITTEN,
    )
    assert write_history(prefix, ["python=3.11", "numpy>=1.26"], "provision apply p.yaml")
    text = (prefix / "conda-meta" / "history").read_text()
    assert text.startswith(CONDA_WRITTEN)  # appended only
    new = revisions(prefix)[-1]
    channel = "https://conda.anaconda.org/conda-forge/linux-64::"
    assert new[0] == "# cmd: provision apply p.yaml"
    # Every dist conda recorded that is not installed now goes; what is installed comes.
    assert sorted(x for x in new if x[:1] in "+-") == [
        f"+{channel}numpy-1.26.4-py311h1",
        f"+{channel}python-3.11.7-h955ad1f_0",
        "-conda-forge/linux-64::scipy-1.12.0-py311h64a7726_2",
        "-defaults/linux-64::numpy-1.26.3-py311h08b1b3b_0",
        "-defaults/linux-64::python-3.11.7-h955ad1f_0",
    ]
    # scipy was asked for with its channel: it is removed by its package name.
    assert new[-2:] == [
        "# update specs: ['python=3.11', 'numpy>=1.26']",
        "# remove specs: ['conda-forge::scipy']",
    ]


@pytest.mark.parametrize(
    "noise",
    [
        "# update specs: [unclosed\n",
        "# update specs: ['a', \n",
        "# update specs: {'not': 'a list'}\n",
        "# update specs: [__import__('os').system('id')]\n",
        "# neutered specs: ['x']\n",
        "garbage line without a marker\n",
    ],
)
def test_lines_that_are_not_spec_lists_are_ignored(tmp_path: Path, noise: str) -> None:
    prefix = prefix_with(tmp_path, ("tool", "1.0", "0"))
    assert write_history(prefix, ["tool"], "provision apply p.yaml")
    with (prefix / "conda-meta" / "history").open("a") as f:
        f.write(noise)
    assert not write_history(prefix, ["tool"], "provision apply p.yaml")


def test_a_history_that_is_not_utf8_is_read_and_appended_to(tmp_path: Path) -> None:
    prefix = prefix_with(tmp_path, ("tool", "1.0", "0"))
    history = prefix / "conda-meta" / "history"
    written = b"==> 2024-01-01 00:00:00 <==\n# cmd: conda create -p /caf\xe9/env tool\n"
    history.write_bytes(written)
    assert write_history(prefix, ["tool"], "provision apply p.yaml")
    assert history.read_bytes().startswith(written)
    assert revisions(prefix)[-1][-1] == "# update specs: ['tool']"


def test_no_conda_meta_yet_creates_the_history(tmp_path: Path) -> None:
    prefix = tmp_path / "new"
    assert write_history(prefix, ["tool"], "provision apply p.yaml")
    assert revisions(prefix) == [["# cmd: provision apply p.yaml", "# update specs: ['tool']"]]


# -- the pip part's install failures ---------------------------------------------------

HASH_PIP = """\
ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have
updated the package versions, please update the hashes. Otherwise, examine the package
contents carefully; someone may have tampered with them.
    six==1.17.0 from file:///w/six-1.17.0-py2.py3-none-any.whl:
        Expected sha256 0000
             Got        274e
"""
HASH_UV = "error: Hash mismatch for `six==1.17.0`\n\nExpected:\n  sha256:0000\n"
DISK_UV = "error: Failed to install: six\n  Caused by: No space left on device (os error 28)\n"
OFFLINE_UV = (
    "error: Failed to download `six==1.17.0`\n  Caused by: Network connectivity is disabled, "
    "but the requested data wasn't found in the cache for: `https://pypi.org/six.whl`\n"
)
DNS_UV = (
    "error: Failed to fetch: `https://pypi.example/simple/six/`\n  Caused by: error sending "
    "request\n  Caused by: dns error: failed to lookup address information\n"
)
REFUSED_PIP = (
    "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError("
    "'<urllib3.connection.HTTPSConnection>: Failed to establish a new connection: "
    "[Errno 111] Connection refused')': /simple/six/\n"
)


@pytest.mark.parametrize(
    ("output", "cause", "fix"),
    [
        (HASH_PIP, "does not match the sha256 in the lock", "re-lock with `provision lock"),
        (HASH_UV, "does not match the sha256 in the lock", "check the package source"),
        (DISK_UV, "the disk is full", "UV_CACHE_DIR"),
        (OFFLINE_UV, "offline, and a locked package is not in the local cache", "connect"),
        (DNS_UV, "the pip package index is unreachable", "environment.proxy"),
        (REFUSED_PIP, "the pip package index is unreachable", "environment.index_url"),
    ],
)
def test_a_known_installer_failure_is_one_cause_and_one_fix(
    output: str, cause: str, fix: str
) -> None:
    error = explain_install_failure(output)
    assert error.message.startswith("installing the pip part failed: ")
    assert cause in error.message and error.hint is not None and fix in error.hint
    assert error.exit_code == ExitCode.NOT_READY
    assert len(error.lines()) == 1


def test_a_hash_mismatch_wins_over_the_network_noise_around_it() -> None:
    error = explain_install_failure(REFUSED_PIP + HASH_PIP)
    assert "does not match the sha256 in the lock" in error.message


@pytest.mark.parametrize(
    ("output", "fallback", "detail"),
    [
        ("building wheel\n\nerror: subprocess-exited-with-error\n\n", None, "error: subprocess"),
        ("", RuntimeError("uv exited with 2"), "uv exited with 2"),
        ("  \n\n", None, ""),
    ],
)
def test_an_unknown_failure_shows_the_last_line_and_says_how_to_see_more(
    output: str, fallback: Exception | None, detail: str
) -> None:
    error = explain_install_failure(output, fallback=fallback)
    assert error.message.startswith(f"installing the pip part failed: {detail}")
    assert error.hint == "run again with -v to see the installer's full output"
