"""The compatibility table is well-formed data, and every rule in it is exercised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.compatdata import releases
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
    published = releases.published("torch-directml", release)
    assert published is not None
    python = published.pythons[-1]  # the newest Python the release has wheels for
    new = text.replace(pins.group(0), f'pip: ["torch=={torch}", "torch-directml=={release}"]')
    new = re.sub(r'python: "3\.\d+"', f'python: "{python}"', new)
    path.write_text(new, "utf-8")
    assert errors(path) == []
    wrong = "2.4.1" if torch != "2.4.1" else "2.3.1"
    path.write_text(new.replace(f"torch=={torch}", f"torch=={wrong}"), "utf-8")
    assert [m for m in errors(path) if f"needs torch=={torch}" in m]


@pytest.mark.parametrize("release", ["0.3.0.dev221212", "0.4.0.dev230202"])
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
        "torch 2.10.0 is a CUDA 12.8 build, which needs the Windows NVIDIA driver "
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

    data = Path(__file__).resolve().parents[2] / "provisioner/data"
    table = yaml.safe_load((data / "compat.yaml").read_text("utf-8"))
    for row in table["rules"]:
        if "source" in row:
            assert "https://" in row["source"], row["id"]
    for row in table["numpy_1x"]:
        assert row["source"].startswith("https://"), row
    nvidia = yaml.safe_load((data / "nvidia.yaml").read_text("utf-8"))
    for key in ("driver_floors", "toolkit_architectures", "torch_builds"):
        for row in nvidia[key]:
            assert row["source"].startswith("https://"), (key, row)


# --- issue 19: rules that follow from the packages' own metadata ---------------------------


def _cuda_wsl2_with(tmp_path: Path, torch: str, floor: str) -> Path:
    text = (PROFILES / "cuda-wsl2.yaml").read_text("utf-8")
    text = re.sub(r"pip: \[.*\]", f'pip: ["torch=={torch}"]', text)
    text = re.sub(r'nvidia: "[0-9.]+"', f'nvidia: "{floor}"', text)
    path = tmp_path / "cuda.yaml"
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("floor", "ok"), [("527.41", False), ("576.88", False), ("580", True), ("581.57", True)]
)
def test_torch_2_11_needs_the_cuda_13_driver(tmp_path: Path, floor: str, ok: bool) -> None:
    """torch 2.11.0's Linux wheel requires cuda-toolkit==13.0.2: NVIDIA's CUDA 13 floor."""
    found = errors(_cuda_wsl2_with(tmp_path, "2.11.0", floor))
    assert (found == []) is ok, found
    if not ok:
        assert found == [
            "torch 2.11.0 is a CUDA 13.0 build, which needs the Windows NVIDIA driver 580 or "
            f"newer: raise requires.gpu.vendors.nvidia, got {floor}"
        ]


def test_cpu_and_pytorch_index_builds_are_not_judged_by_pypi(tmp_path: Path) -> None:
    """A +cpu pin needs no driver; a +cu126 pin is a CUDA 12.6 build (the 12.x floor)."""
    assert errors(_cuda_wsl2_with(tmp_path, "2.11.0+cpu", "527.41")) == []
    assert errors(_cuda_wsl2_with(tmp_path, "2.11.0+cu126", "527.41")) == []
    low = errors(_cuda_wsl2_with(tmp_path, "2.11.0+cu126", "516.94"))
    assert low and "CUDA 12.6 build" in low[0] and "527.41" in low[0]


@pytest.mark.parametrize(("python", "ok"), [("3.5", False), ("3.6", True), ("3.7", True)])
def test_tensorflow_directml_1_15_5_python_from_its_wheels(
    tmp_path: Path, python: str, ok: bool
) -> None:
    path = variant(
        tmp_path,
        "directml-windows",
        **{
            'python: "3.7"': f'python: "{python}"',
            "tensorflow-directml==1.15.8": "tensorflow-directml==1.15.5",
        },
    )
    assert (errors(path) == []) is ok, errors(path)


@pytest.mark.parametrize(
    ("profile", "numpy", "ok"),
    [
        ("directml-plugin-wsl2", "numpy>=2", False),
        ("directml-plugin-wsl2", "numpy 2.*", False),
        ("directml-plugin-wsl2", "numpy<2", True),
        ("directml-plugin-wsl2", "numpy", True),
        ("torch-directml-wsl2", "numpy>=2", False),
        ("torch-directml-windows", "numpy=2.1", False),
        ("torch-directml-windows", "numpy>=1.26,<2", True),
        ("directml-wsl2", "numpy>=2", False),
    ],
)
def test_numpy_2_refused_with_builds_for_numpy_1(
    tmp_path: Path, profile: str, numpy: str, ok: bool
) -> None:
    text = (PROFILES / f"{profile}.yaml").read_text("utf-8")
    text = re.sub(r"  conda: \[.*\]", f'  conda: ["{numpy}"]', text)
    path = tmp_path / "p.yaml"
    path.write_text(text, "utf-8")
    found = [m for m in errors(path) if "NumPy 1.x" in m]
    assert (found == []) is ok, found


# --- the shipped profiles agree with the data -----------------------------------------------


@pytest.mark.parametrize("name", ["cuda-wsl2", "cuda-linux"])
def test_cuda_profiles_notes_name_the_gpus_their_torch_build_runs_on(name: str) -> None:
    from provisioner.compatdata import nvidia
    from provisioner.compatdata.torch_build import torch_build

    profile = load_profile(PROFILES / f"{name}.yaml").profile
    torch = next(s for s in profile.environment.pip if s.startswith("torch"))
    build = torch_build(torch)
    assert build is not None and build.cuda is not None
    kernels = nvidia.torch_kernels(build.version, build.cuda)
    assert kernels is not None and kernels.exact
    oldest = kernels.oldest()
    assert oldest is not None
    note = (profile.requires.gpu.notes or {}).get("nvidia", "")
    assert note.startswith(f"{nvidia.generation(oldest)} (compute capability {oldest}) or newer")
    assert kernels.runs_on("12.0") == ("RTX 50" in note)  # Blackwell GeForce
    for older in ("5.2", "6.1"):  # Maxwell, Pascal: named when the build has no kernels
        assert kernels.runs_on(older) != (nvidia.generation(older) in note), older
    floor = profile.requires.gpu.vendors.nvidia
    need = nvidia.driver_floor(build.cuda, "linux" if name == "cuda-linux" else "windows")
    assert need is not None and floor == need.driver


@pytest.mark.parametrize(
    "name", ["directml-plugin-wsl2", "torch-directml-wsl2", "torch-directml-windows"]
)
def test_numpy_1_profiles_cap_numpy_themselves(name: str) -> None:
    from provisioner.compatdata.numpy_abi import admits_numpy1, numpy1_builds

    env = load_profile(PROFILES / f"{name}.yaml").profile.environment
    assert numpy1_builds(env.pip), "the data no longer says this profile needs NumPy 1.x"
    (numpy,) = [s for s in env.conda if s.split("<")[0].split(">")[0].strip() == "numpy"]
    assert admits_numpy1(numpy, "conda") and numpy.replace(" ", "").endswith("<2")
