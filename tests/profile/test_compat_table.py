"""The compatibility table is well-formed data, and every rule in it is exercised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.errors import ValidationFailed
from provisioner.profile import load_profile
from provisioner.profile.compat import CHECKS, rules
from provisioner.profile.diagnostics import field_names
from provisioner.profile.model import Profile

CORPUS = Path(__file__).resolve().parent.parent / "data" / "invalid"


def is_field(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[:3] == ["requires", "gpu", "vendors"] and len(parts) == 4:
        return parts[3] in field_names(Profile, tuple(parts[:3]))
    return parts[-1] in field_names(Profile, tuple(parts[:-1]))


def test_rule_ids_are_unique_and_checks_known() -> None:
    ids = [r.id for r in rules()]
    assert len(ids) == len(set(ids))
    assert all(r.check in CHECKS for r in rules())


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.id)
def test_rule_reads_real_fields(rule: object) -> None:
    """A typo in a field name would silently switch a rule off."""
    fields = [*rule.when]  # type: ignore[attr-defined]
    if "field" in rule.args:  # type: ignore[attr-defined]
        fields.append(rule.args["field"])  # type: ignore[attr-defined]
    if rule.at:  # type: ignore[attr-defined]
        fields.append(rule.at)  # type: ignore[attr-defined]
    for f in fields:
        assert is_field(f), f"rule {rule.id}: {f!r} is not a profile field"  # type: ignore[attr-defined]


def corpus_messages() -> list[str]:
    out = []
    for case in sorted(CORPUS.glob("*.yaml")):
        try:
            load_profile(case)
        except ValidationFailed as e:
            out += [d.message for d in e.diagnostics]
    return out


def test_every_rule_fires_in_the_invalid_corpus() -> None:
    messages = corpus_messages()
    silent = []
    for rule in rules():
        static = max(re.split(r"\{[^}]*\}", rule.message), key=len)
        if not any(static in m for m in messages):
            silent.append(rule.id)
    assert not silent, f"rules with no broken profile in tests/data/invalid: {silent}"


# --- issue 10: the table from its sources: pairs that install pass, the rest do not ----

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def variant(tmp_path: Path, base: str, **replace: str) -> Path:
    """A shipped profile with some lines replaced (old text -> new text)."""
    text = (PROFILES / f"{base}.yaml").read_text("utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{base}-variant.yaml"
    path.write_text(text, "utf-8")
    return path


def errors(path: Path) -> list[str]:
    try:
        load_profile(path)
    except ValidationFailed as e:
        return [d.message for d in e.diagnostics]
    return []


TORCH_DIRECTML_PINS = dict(next(r for r in rules() if r.id == "torch-directml-pins").args["pins"])


@pytest.mark.parametrize(("release", "torch"), sorted(TORCH_DIRECTML_PINS.items()))
def test_every_torch_directml_release_validates_with_its_torch(
    tmp_path: Path, release: str, torch: str
) -> None:
    text = (PROFILES / "torch-directml-windows.yaml").read_text("utf-8")
    pins = re.search(r"pip: \[.*\]", text)
    assert pins is not None
    path = tmp_path / "p.yaml"
    python = '"3.10"' if release == "0.2.0.dev230426" else None
    new = text.replace(pins.group(0), f'pip: ["torch=={torch}", "torch-directml=={release}"]')
    if python:
        new = re.sub(r'python: "3\.\d+"', f"python: {python}", new)
    path.write_text(new, "utf-8")
    assert errors(path) == []
    wrong = "2.4.1" if torch != "2.4.1" else "2.3.1"
    path.write_text(new.replace(f"torch=={torch}", f"torch=={wrong}"), "utf-8")
    assert [m for m in errors(path) if f"needs torch=={torch}" in m]


@pytest.mark.parametrize("release", ["0.3.0", "0.4.0"])
def test_plugin_releases_take_tensorflow_cpu_2_10_0(tmp_path: Path, release: str) -> None:
    text = (PROFILES / "directml-plugin-wsl2.yaml").read_text("utf-8")
    pins = re.search(r"pip: \[.*\]", text)
    assert pins is not None
    path = tmp_path / "p.yaml"
    good = f'pip: ["tensorflow-cpu==2.10.0", "tensorflow-directml-plugin=={release}"]'
    path.write_text(text.replace(pins.group(0), good), "utf-8")
    assert errors(path) == []
    path.write_text(text.replace(pins.group(0), good.replace("2.10.0", "2.10.1")), "utf-8")
    assert errors(path) == [
        f"tensorflow-directml-plugin {release} needs tensorflow-cpu==2.10.0, "
        'got "tensorflow-cpu==2.10.1"'
    ]


@pytest.mark.parametrize(("python", "ok"), [("3.5", False), ("3.6", True), ("3.7", True)])
def test_tensorflow_directml_1_15_8_python_from_its_wheels(
    tmp_path: Path, python: str, ok: bool
) -> None:
    path = variant(tmp_path, "directml-wsl2", **{'python: "3.7"': f'python: "{python}"'})
    assert (errors(path) == []) is ok


def test_cuda_wsl2_floor_meets_its_torch_cuda_build(tmp_path: Path) -> None:
    assert errors(PROFILES / "cuda-wsl2.yaml") == []
    low = variant(tmp_path, "cuda-wsl2", **{'nvidia: "527.41"': 'nvidia: "527.27"'})
    assert errors(low) == [
        "torch 2.4.1 from PyPI is a CUDA 12.1 build, which needs the Windows NVIDIA driver "
        "527.41 or newer: raise requires.gpu.vendors.nvidia, got 527.27"
    ]
    linux = variant(tmp_path, "cuda-linux", **{'nvidia: "525.60.13"': 'nvidia: "520.61.05"'})
    assert any("Linux NVIDIA driver 525.60.13" in m for m in errors(linux))


def test_shipped_tensorflow_directml_profiles_pin_numpy_below_1_19() -> None:
    for name in ("directml-wsl2", "directml-windows"):
        conda = load_profile(PROFILES / f"{name}.yaml").profile.environment.conda
        assert any(str(s).replace(" ", "").startswith("numpy>=1.16,<1.19") for s in conda), name


def test_every_rule_cites_a_source_url() -> None:
    import yaml

    table = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "provisioner/data/compat.yaml").read_text("utf-8")
    )
    for row in table["rules"]:
        if "source" in row:
            assert "https://" in row["source"], row["id"]
    for cuda, row in table["cuda_drivers"].items():
        assert row["source"].startswith("https://docs.nvidia.com/"), cuda
