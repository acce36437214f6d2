"""``render -o DIR`` removes what an earlier render wrote and no longer writes, as listed
in that render's manifest.json. The manifest is a file in a folder anyone can edit, so
a name in it that points elsewhere (a path, ``..``, a symlink, a folder) never removes
anything; only plain files directly in DIR that a provision manifest lists go."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.cli import main


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "work" / "out"
    folder.mkdir(parents=True)
    return folder


def manifest(out: Path, names: list[object], tool: str = "provision") -> None:
    files = [{"name": n, "sha256": "0" * 64, "executable": False} for n in names]
    (out / "manifest.json").write_text(json.dumps({"tool": tool, "files": files}), "utf-8")


def render(out: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["render", "-o", str(out)]) == 0
    return [line.split()[0] for line in capsys.readouterr().out.splitlines()]


def test_a_listed_file_render_no_longer_writes_is_removed(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (out / "bootstrap.ps1").write_text("old", encoding="utf-8")
    manifest(out, ["bootstrap.ps1"])
    assert "remove" in render(out, capsys)
    assert not (out / "bootstrap.ps1").exists()


@pytest.mark.parametrize(
    "name",
    ["../keep.txt", "/etc/hostname", "sub/keep.txt", "..", ".", "", "sub", "link.txt"],
    ids=["parent", "absolute", "subfolder-file", "dotdot", "dot", "empty", "folder", "symlink"],
)
def test_names_that_point_elsewhere_remove_nothing(
    name: str, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = out.parent / "keep.txt"
    outside.write_text("outside", encoding="utf-8")
    (out / "sub").mkdir()
    (out / "sub" / "keep.txt").write_text("inside a folder", encoding="utf-8")
    (out / "link.txt").symlink_to(outside)
    manifest(out, [name])
    assert "remove" not in render(out, capsys)
    assert outside.read_text(encoding="utf-8") == "outside"
    assert (out / "sub" / "keep.txt").read_text(encoding="utf-8") == "inside a folder"
    assert (out / "link.txt").is_symlink()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"tool": "provision"}',
        '{"tool": "provision", "files": "bootstrap.ps1"}',
        '{"tool": "provision", "files": [null, 3, ["bootstrap.ps1"]]}',
        '{"tool": "other", "files": [{"name": "bootstrap.ps1"}]}',
    ],
    ids=["not-json", "list", "no-files", "files-a-string", "odd-entries", "another-tool"],
)
def test_a_manifest_render_did_not_write_owns_nothing(
    text: str, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (out / "bootstrap.ps1").write_text("someone's", encoding="utf-8")
    (out / "manifest.json").write_text(text, encoding="utf-8")
    assert "remove" not in render(out, capsys)
    assert (out / "bootstrap.ps1").read_text(encoding="utf-8") == "someone's"


def test_a_file_that_render_writes_again_is_overwritten_not_removed(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    render(out, capsys)
    (out / "check.sh").write_text("edited by hand\n", encoding="utf-8")
    assert main(["render", "-o", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    by_name = {Path(line.split()[1]).name: line.split()[0] for line in printed}
    assert by_name["check.sh"] == "overwrite"
    assert by_name["manifest.json"] == "identical"
    assert set(by_name.values()) == {"overwrite", "identical"}
