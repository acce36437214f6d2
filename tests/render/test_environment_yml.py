"""environment.yml: golden files, conda-lock's own parser reads it back, and
``provision render`` writes every artifact idempotently for every shipped profile."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from provisioner.cli import main
from provisioner.profile import load_profile
from provisioner.profile.extends import package_name
from provisioner.render import RenderContext, sha256_text
from provisioner.render.artifacts_env import render_environment_yml, yaml_scalar

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "data" / "golden"
SHIPPED = sorted((REPO / "profiles").glob("*.yaml")) + sorted(
    (REPO / "profiles" / "examples").glob("*.yaml")
)
IDS = [p.stem for p in SHIPPED]


def environment_yml(profile: Path) -> str:
    return render_environment_yml(RenderContext(load_profile(profile), "0.1.0", {}))


@pytest.mark.parametrize("profile", SHIPPED, ids=IDS)
def test_environment_yml_matches_golden_file(profile: Path) -> None:
    golden = GOLDEN / f"{profile.stem}.environment.yml"
    text = environment_yml(profile)
    if os.environ.get("PROVISION_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
        pytest.skip("golden file rewritten (PROVISION_UPDATE_GOLDEN=1); review the diff")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs; if intended, rerun with PROVISION_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("profile", SHIPPED, ids=IDS)
def test_environment_yml_has_what_conda_and_pixi_read(profile: Path) -> None:
    env = load_profile(profile).profile.environment
    doc = yaml.safe_load(environment_yml(profile))
    assert doc["name"] == env.name
    assert doc["channels"] == list(env.channels)
    deps = doc["dependencies"]
    assert deps[0] == f"python={env.python}"
    strings = [d for d in deps if isinstance(d, str)]
    assert strings[1 : 1 + len(env.conda)] == list(env.conda)
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict)]
    if env.pip:
        assert pip_sections == [list(env.pip)]
        assert "pip" in strings
    else:
        assert pip_sections == []
    assert doc.get("variables", {}) == dict(env.variables)


@pytest.mark.parametrize("profile", SHIPPED, ids=IDS)
def test_conda_lock_parser_reads_back_the_same_dependencies(profile: Path, tmp_path: Path) -> None:
    from conda_lock.src_parser.environment_yaml import parse_environment_file

    env = load_profile(profile).profile.environment
    path = tmp_path / "environment.yml"
    path.write_text(environment_yml(profile), encoding="utf-8")
    # conda-lock maps pip names to conda names with a table it downloads; give it a local one
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"pip": {"conda_name": "pip", "pypi_name": "pip"}}))
    spec = parse_environment_file(path, ["linux-64"], mapping_url=str(mapping))
    deps = spec.dependencies["linux-64"]
    assert [c.url for c in spec.channels] == list(env.channels)
    got = {(d.manager, d.name, d.version) for d in deps}
    expected = {("conda", "python", f"{env.python}.*")}
    for kind, specs in (("conda", env.conda), ("pip", env.pip)):
        for entry in specs:
            name = package_name(entry, kind)
            assert name is not None
            version = "".join(entry.split())[len(name) :]
            expected.add((kind, name, version or ("*" if kind == "pip" else "")))
    if env.pip:
        expected |= {("conda", "pip", ""), ("conda", "pip", "*")}  # conda-lock adds pip itself
    assert got == expected


def test_yaml_scalar_reads_back_exactly() -> None:
    hostile = ["!x", "*a", "a: b", "3.10", "yes", "null", "- x", "#x", "a\nb", "\u2028", "'\""]
    for value in hostile:
        assert yaml.safe_load(f"k: {yaml_scalar(value)}")["k"] == value
        assert "\n" not in yaml_scalar(value)


@pytest.mark.parametrize("profile", SHIPPED, ids=IDS)
def test_render_writes_every_artifact_and_a_second_render_changes_nothing(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(profile), "-o", str(out)]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first and all(line.startswith("create") for line in first)
    assert first[-1].endswith("manifest.json")  # written last
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["render", str(profile), "-o", str(out)]) == 0
    second = capsys.readouterr().out.splitlines()
    assert all(line.startswith("identical") for line in second), second
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["profile_hash"] == load_profile(profile).content_hash
    assert manifest["tool_version"]
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert "environment.yml" in listed
    on_disk = {p.name for p in out.iterdir()} - {"manifest.json"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert sha256_text((out / name).read_text(encoding="utf-8")) == digest


def test_render_without_profile_uses_the_embedded_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "-o", str(tmp_path)]) == 0
    doc = yaml.safe_load((tmp_path / "environment.yml").read_text(encoding="utf-8"))
    assert doc["name"] == "cpu"
    assert doc["dependencies"][-1] == {"pip": ["torch==2.13.0", "numpy"]}


def test_render_reports_overwrite_when_the_profile_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.yaml"
    text = (REPO / "profiles" / "cpu.yaml").read_text(encoding="utf-8")
    profile.write_text(text, encoding="utf-8")
    assert main(["render", str(profile), "-o", str(tmp_path / "out")]) == 0
    profile.write_text(text.replace('"numpy"', '"numpy<3"'), encoding="utf-8")
    capsys.readouterr()
    assert main(["render", str(profile), "-o", str(tmp_path / "out")]) == 0
    actions = dict(line.split()[::-1] for line in capsys.readouterr().out.splitlines())
    assert actions[str(tmp_path / "out" / "environment.yml")] == "overwrite"
    assert actions[str(tmp_path / "out" / "manifest.json")] == "overwrite"


def test_render_passes_the_lockfile_beside_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from provisioner.render.folder import lockfile_path

    path = tmp_path / "team.yaml"
    path.write_text((REPO / "profiles" / "cpu.yaml").read_text(encoding="utf-8"))
    profile = load_profile(path)
    assert lockfile_path(profile, None) is None
    (tmp_path / "team.conda-lock.yml").write_text("version: 1\n")
    assert lockfile_path(profile, None) == tmp_path / "team.conda-lock.yml"
    other = tmp_path / "other.yml"
    other.write_text("version: 2\n")
    assert lockfile_path(profile, other) == other
    assert lockfile_path(profile, tmp_path / "missing.yml") == tmp_path / "missing.yml"


def test_render_invalid_profile_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = REPO / "tests" / "data" / "invalid" / "tfdml-python.yaml"
    assert main(["render", str(bad), "-o", str(tmp_path)]) == 2
    assert "publishes wheels for Python 3.6–3.7 only" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_render_missing_lockfile_option_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["render", "-o", str(tmp_path / "o"), "--lockfile", str(tmp_path / "nope.yml")]
    assert main(args) == 2
    assert "cannot read lockfile" in capsys.readouterr().err


def test_index_settings_stay_out_of_the_pip_list(tmp_path: Path) -> None:
    """conda-lock's parser rejected `- --extra-index-url ...` in the pip list, and pixi's
    import reads every entry as a requirement: the settings are a comment instead."""
    from conda_lock.src_parser.environment_yaml import parse_environment_file
    from packaging.requirements import Requirement

    profile = tmp_path / "p.yaml"
    profile.write_text(
        """name: idx
target: {os: linux}
environment:
  manager: conda
  name: idx
  python: "3.11"
  pip: ["torch==2.4.1", numpy]
  index_url: https://pypi.example/simple
  extra_index_urls: ["https://download.pytorch.org/whl/cpu", "file:///srv/wheels"]
  find_links: [/opt/wheels]
smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}
""",
        encoding="utf-8",
    )
    text = environment_yml(profile)
    path = tmp_path / "environment.yml"
    path.write_text(text, encoding="utf-8")
    pip_list = next(d["pip"] for d in yaml.safe_load(text)["dependencies"] if isinstance(d, dict))
    assert pip_list == ["torch==2.4.1", "numpy"]
    for entry in pip_list:
        Requirement(entry)  # what pixi init --import does with each entry
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"pip": {"conda_name": "pip", "pypi_name": "pip"}}))
    spec = parse_environment_file(path, ["linux-64"], mapping_url=str(mapping))
    names = {(d.manager, d.name) for d in spec.dependencies["linux-64"]}
    assert {("pip", "torch"), ("pip", "numpy")} <= names
    assert not any(name.startswith("-") for _, name in names)
    comments = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert "#   PIP_INDEX_URL=https://pypi.example/simple" in comments
    assert (
        "#   PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu file:///srv/wheels"
        in comments
    )
    assert "#   PIP_FIND_LINKS=/opt/wheels" in comments


def test_render_removes_files_of_an_earlier_render_it_no_longer_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(REPO / "profiles" / "directml-windows.yaml"), "-o", str(out)]) == 0
    assert (out / "bootstrap.ps1").is_file()
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # not render's: left alone
    capsys.readouterr()
    assert main(["render", str(REPO / "profiles" / "cpu.yaml"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert f"remove     {out / 'bootstrap.ps1'}" in printed
    assert not (out / "bootstrap.ps1").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"] for f in manifest["files"]} | {"manifest.json", "notes.txt"}
    assert {p.name for p in out.iterdir()} == listed
